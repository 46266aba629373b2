-- Search's first step (050): the most recently active conversations first. Whatever the word's
-- frequency and wherever its hits are, every page equals the brute-force answer (all of the
-- requester's conversations, newest first), including when the first step's hits are older than
-- a skipped conversation's newest message.
insert into profiles (username, password_hash)
  select 't-peer' || i, crypt('pw', gen_salt('bf', 4)) from generate_series(1, 40) i;
set local role mqchat_app;
select pg_temp.act_as('t-alice');
-- 40 conversations, each with a few messages; "common" everywhere, "rare" in the least recent ones
-- only, "late" once in an old conversation after the others' latest common hits (so that old
-- conversation becomes the most recent).
-- Round robin, so the skipped conversations' newest messages are newer than most of the first
-- step's hits (the first step alone would then be wrong); then one conversation at a time.
select send_message('t-peer' || i, 'common word ' || i || ' ' || j || case when i <= 3 then ' rare' else '' end)
  from generate_series(1, 4) j, generate_series(1, 40) i order by j, i;
select send_message('t-peer' || i, 'common again ' || i || ' ' || j)
  from generate_series(1, 40) i, generate_series(1, 3) j order by i, j;
select send_message('t-peer2', 'common late');
reset role;

create temp table expected_pages as
  select q, array(select m.id::text from messages m
                   where m.conversation_id = any(mqchat_user_conversation_ids(pg_temp.user_id('t-alice')))
                     and m.search_words @@ websearch_to_tsquery('simple', q) and m.deleted_at is null
                   order by m.id desc) as ids
    from unnest(array['common', 'rare', 'late', 'common -late', 'word 7']) q;
grant all on expected_pages to mqchat_app;
set local role mqchat_app;
select pg_temp.act_as('t-alice');

do $$
declare
  e record;
  got text[];
  cursor_id uuid;
  r jsonb;
  page_size int;
begin
  for page_size in select unnest(array[1, 3, 20]) loop
    for e in select * from expected_pages loop
      got := '{}';
      cursor_id := null;
      loop
        r := search_messages(e.q, cursor_id, page_size);
        got := got || array(select x->>'id' from jsonb_array_elements(r->'results') x);
        exit when r->>'next' is null or cardinality(got) > 1000;
        cursor_id := (r->>'next')::uuid;
      end loop;
      if got is distinct from e.ids then
        raise exception 'search % in pages of %: got % hits, expected % (brute force)', e.q, page_size,
          cardinality(got), cardinality(e.ids);
      end if;
    end loop;
  end loop;
end $$;

select pg_temp.assert_fails_with($$select mqchat_search_hits('{}', 'x'::tsquery, null, 1)$$, '42501',
                                 'permission denied for function', 'the hits helper is not the app''s');
