-- Search pages (051: one GIN scan over "<conversation tag><word>" keys; 052: time windows). Whatever the word's
-- frequency, the query's shape (AND, phrase, OR, negation, negation only) and wherever its hits
-- are, every page equals the brute-force answer (all of the requester's conversations, newest
-- first) -- also when another conversation shares a conversation's tag.
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

-- Another conversation (of two other users) whose id ends like one of alice's (its tag): its
-- messages share her keys and must not come back to her. Room and id are set by a trigger; off here.
insert into profiles (username) values ('t-x1'), ('t-x2');
alter table conversations disable trigger conversations_canonical;
insert into conversations (id, room, participant_1, participant_2)
  select overlay(mqchat_conversation_id('t-alice_t-peer2')::text placing 'ffffffff' from 1 for 8)::uuid, 't-x1_t-x2',
         pg_temp.user_id('t-x1'), pg_temp.user_id('t-x2');
alter table conversations enable trigger conversations_canonical;
insert into messages (conversation_id, sender_id, content)
  select c.id, pg_temp.user_id('t-x1'), 'common rare late word 7 not hers ' || i
    from conversations c, generate_series(1, 5) i where c.room = 't-x1_t-x2';
-- Older history, minutes to weeks back, so the search's time windows take several steps.
insert into messages (id, conversation_id, sender_id, content)
  select mqchat_uuid_at_ms((extract(epoch from now()) * 1000)::bigint - i * 2222000 - j * 259200000),
         mqchat_conversation_id('t-alice_t-peer' || i), pg_temp.user_id('t-peer' || i),
         'common old ' || i || ' ' || j || case when (i + j) % 7 = 0 then ' rare' else '' end
    from generate_series(1, 40) i, generate_series(0, 5) j;

create temp table expected_pages as
  select q, array(select m.id::text from messages m
                   where m.conversation_id = any(mqchat_user_conversation_ids(pg_temp.user_id('t-alice')))
                     and m.search_words @@ websearch_to_tsquery('simple', q) and m.deleted_at is null
                   order by m.id desc) as ids
    from unnest(array['common', 'rare', 'late', 'common -late', 'word 7', 'rare common', '"common word"',
                      'common or rare', 'late or "word 7"', '-common', 'common -rare -late', 'hers',
                      'again 12 3', '"again 12" or (rare -word)']) q;
grant all on expected_pages to mqchat_app;

create function pg_temp.check_every_page(modes text[]) returns void language plpgsql as $$
declare
  e record;
  got text[];
  cursor_id uuid;
  r jsonb;
  page_size int;
  mode text;
begin
  -- By default; through the index alone; through the time windows alone (no index, no walk
  -- through the newest messages); and after one hit from the index, five of the newest messages,
  -- then the windows. (mode: mqchat.search_probe/mqchat.search_walk)
  for mode, page_size in select p, n from unnest(modes) p, unnest(array[1, 3, 20]) n loop
    perform set_config('mqchat.search_probe', split_part(mode, '/', 1), true);
    perform set_config('mqchat.search_walk', split_part(mode, '/', 2), true);
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
        raise exception 'search % in pages of % (mode %): got % hits, expected % (brute force)', e.q, page_size,
          mode, cardinality(got), cardinality(e.ids);
      end if;
    end loop;
  end loop;
end $$;

set local role mqchat_app;
select pg_temp.act_as('t-alice');
select pg_temp.check_every_page(array['', '100000/0', '0/0', '1/5']);
-- With statistics the search estimates how common each word is (index or windows) and how wide
-- its first window must be (052): the same pages again.
reset role;
analyze messages, conversations;
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select pg_temp.check_every_page(array['', '0/0']);  -- (the other two modes do not read statistics)

select pg_temp.assert_fails_with($$select mqchat_search_hits('{}', 'x'::tsquery, null, 1)$$, '42501',
                                 'permission denied for function', 'the hits helper is not the app''s');
