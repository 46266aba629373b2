-- Incremental counts (sql/021_counters.sql) against a full recount, on random histories: sends
-- (SQL API as the app role, the app role's own inserts, mqchat_ingest batches, the COPY merge, with
-- replays and late messages below a read floor), reads (single and up_to, SQL and bridge), edits,
-- deletions, and the owner's rare hand edits (hard deletes, receipts added or removed, undeletes), in random
-- order for four users. After every step: each participant's unread count, the last message and
-- the read floor match a recount; mqchat_summaries and get_user_conversations (as each user, as the
-- app role) give exactly what the recounting versions of 010/011 gave.
insert into profiles (username, password_hash) values ('t-dave', crypt('pw', gen_salt('bf', 4)));
create temp table users as select id, username from profiles where username in ('t-alice', 't-bob', 't-carol', 't-dave');
create temp table tokens as select username, mqchat_sign_in(username, 'pw') as token from users;
grant select on users, tokens to mqchat_app;
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape);

-- A UUIDv7 `back_ms` milliseconds before now (a message the shipper delivers late).
create function pg_temp.uuid_at(back_ms bigint) returns uuid language sql volatile as $$
  select (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint - back_ms), 12, '0') || '7' ||
          substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
$$;

-- The recounting summary of 010 (what the bridge published before 021), verbatim.
create function pg_temp.ref_summaries(p_users text[]) returns table (username text, summary jsonb)
language sql stable as $$
  select u.username,
         coalesce((select jsonb_agg(jsonb_build_object(
                             'room', c.room, 'with', other.username, 'last_message', last.j,
                             'unread_count', unread.n,
                             'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                           order by greatest(c.updated_at, last.created_at) desc, last.id desc nulls last)
                     from conversations c
                     join profiles other
                       on other.id = case when c.participant_1 = u.id then c.participant_2 else c.participant_1 end
                     left join lateral (
                       select mqchat_message_full_json(m, c.room, s.username) as j, m.created_at, m.id
                         from messages m join profiles s on s.id = m.sender_id
                        where m.conversation_id = c.id
                        order by m.id desc limit 1) last on true
                     cross join lateral (
                       select count(*) as n from messages m
                        where m.conversation_id = c.id and m.sender_id <> u.id and m.deleted_at is null
                          and not exists (select 1 from message_read_status r
                                           where r.message_id = m.id and r.user_id = u.id)) unread
                    where u.id in (c.participant_1, c.participant_2)), '[]'::jsonb)
    from profiles u
   where u.username = any(p_users)
$$;

-- The recounting get_user_conversations of 011, for user `me`, as one jsonb array.
create function pg_temp.ref_conversations(me uuid) returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(to_jsonb(x) - 'ord' order by x.ord), '[]')
    from (select c.id as conversation_id, c.room, other.username as with_user, last_message.j as last_message,
                 unread.n as unread_count, greatest(c.updated_at, last_message.created_at) as updated_at,
                 row_number() over (order by greatest(c.updated_at, last_message.created_at) desc,
                                             last_message.id desc nulls last, c.id) as ord
            from conversations c
            join profiles other
              on other.id = case when c.participant_1 = me then c.participant_2 else c.participant_1 end
            left join lateral (
              select mqchat_message_full_json(m, c.room, p.username) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.conversation_id = c.id
               order by m.id desc limit 1) last_message on true
            cross join lateral (
              select count(*) as n from messages m
               where m.conversation_id = c.id and m.sender_id <> me and m.deleted_at is null
                 and not exists (select 1 from message_read_status r where r.message_id = m.id and r.user_id = me)) unread
           where me in (c.participant_1, c.participant_2)) x
$$;

-- Every stored count against a recount; then the summary functions against their references.
create function pg_temp.check_counts(step text) returns void language plpgsql as $$
declare
  bad record;
  u record;
  expected jsonb;
  got jsonb;
begin
  for bad in
    select c.room, p.who, p.stored, p.floor,
           (select count(*) from messages m
             where m.conversation_id = c.id and m.sender_id <> p.who and m.deleted_at is null
               and not exists (select 1 from message_read_status r where r.message_id = m.id and r.user_id = p.who)) as n,
           (select m.id from messages m where m.conversation_id = c.id order by m.id desc limit 1) as last_id,
           c.last_message_id
      from conversations c
     cross join lateral (values (c.participant_1, c.unread_1, c.read_floor_1),
                                (c.participant_2, c.unread_2, c.read_floor_2)) p(who, stored, floor)
  loop
    if bad.stored <> bad.n then
      raise exception 'after %: % has unread % for %, recount %', step, bad.room, bad.stored, bad.who, bad.n;
    end if;
    if bad.last_message_id is distinct from bad.last_id then
      raise exception 'after %: % last message % but newest is %', step, bad.room, bad.last_message_id, bad.last_id;
    end if;
    if exists (select 1 from messages m join conversations c on c.id = m.conversation_id
                where c.room = bad.room and m.id <= bad.floor and m.sender_id <> bad.who and m.deleted_at is null
                  and not exists (select 1 from message_read_status r where r.message_id = m.id and r.user_id = bad.who)) then
      raise exception 'after %: % has an unread message at or below % floor %', step, bad.room, bad.who, bad.floor;
    end if;
  end loop;

  select jsonb_object_agg(username, summary) into expected
    from pg_temp.ref_summaries(array(select username from users));
  select jsonb_object_agg(username, summary) into got from mqchat_summaries(array(select username from users));
  if got is distinct from expected then
    raise exception 'after %: mqchat_summaries differs: % <> %', step, got, expected;
  end if;

  for u in select * from users loop
    expected := pg_temp.ref_conversations(u.id);
    perform set_config('mqchat.token', (select token from tokens where username = u.username), true);
    perform set_config('role', 'mqchat_app', true);
    select coalesce(jsonb_agg(to_jsonb(g)), '[]') into got from get_user_conversations() g;
    perform set_config('role', 'none', true);
    if got is distinct from expected then
      raise exception 'after %: get_user_conversations of % differs: % <> %', step, u.username, got, expected;
    end if;
  end loop;
end $$;

-- One random step; returns what it did.
create function pg_temp.random_step() returns text language plpgsql as $$
declare
  a users;
  b users;
  m record;
  r double precision := random();
  batch jsonb;
  cid uuid;
begin
  select * into a from users order by random() limit 1;
  select * into b from users where id <> a.id order by random() limit 1;
  cid := mqchat_conversation_id(least(a.username collate "C", b.username collate "C") || '_' ||
                                greatest(a.username collate "C", b.username collate "C"));
  perform set_config('mqchat.token', (select token from tokens where username = a.username), true);
  if r < 0.20 then                                   -- SQL API send, as the app role
    perform set_config('role', 'mqchat_app', true);
    perform send_message(b.username, 'sql ' || r);
    perform set_config('role', 'none', true);
    return 'send_message';
  elsif r < 0.25 then                                -- the app role's own insert
    perform set_config('role', 'mqchat_app', true);
    perform get_or_create_conversation(a.id, b.id);
    insert into messages (conversation_id, sender_id, content) values (cid, a.id, 'direct ' || r);
    perform set_config('role', 'none', true);
    return 'insert as app';
  elsif r < 0.37 then                                -- a shipper batch (json), several rooms, some late, replayed
    select jsonb_agg(jsonb_build_object(
             'id', pg_temp.uuid_at(case when random() < 0.3 then (random() * 3000)::bigint else 0 end),
             'conversation_id', mqchat_conversation_id(least(s.username collate "C", t.username collate "C") || '_' ||
                                                       greatest(s.username collate "C", t.username collate "C")),
             'room', least(s.username collate "C", t.username collate "C") || '_' ||
                     greatest(s.username collate "C", t.username collate "C"),
             'sender', s.username, 'content', 'batch', 'type', 'text', 'metadata', '{}'::jsonb,
             'created_at', mqchat_ts(now())))
      into batch
      from generate_series(1, 1 + (random() * 5)::int) g
      cross join lateral (select * from users where g > 0 order by random() limit 1) s
      cross join lateral (select * from users where id <> s.id and g > 0 order by random() limit 1) t;
    perform mqchat_ingest(batch);
    if random() < 0.3 then perform mqchat_ingest(batch); end if;   -- a replay changes nothing
    return 'mqchat_ingest';
  elsif r < 0.47 then                                -- the COPY merge (conversation made first, as the shipper does)
    perform mqchat_ensure_conversations(array[least(a.username collate "C", b.username collate "C") || '_' ||
                                              greatest(a.username collate "C", b.username collate "C")], array[now()]);
    insert into pg_temp.mqchat_ingest_stage
    select pg_temp.uuid_at(case when random() < 0.3 then (random() * 3000)::bigint else 0 end), cid,
           case when random() < 0.5 then a.id else b.id end, 'copied', 'text', '{}', null, now()
      from generate_series(1, 1 + (random() * 4)::int);
    perform mqchat_ingest_staged();
    if random() < 0.3 then perform mqchat_ingest_staged(); end if;
    delete from pg_temp.mqchat_ingest_stage;
    return 'ingest_staged';
  end if;

  -- The rest act on an existing message of a's conversations.
  select m2.* into m from messages m2 join conversations c on c.id = m2.conversation_id
   where a.id in (c.participant_1, c.participant_2) order by random() limit 1;
  if m.id is null then return 'nothing'; end if;
  if r < 0.60 then                                   -- single read, SQL (app role) or the bridge
    if m.sender_id = a.id then return 'own'; end if;
    if random() < 0.5 then
      perform set_config('role', 'mqchat_app', true);
      perform mark_message_read(m.id);
      perform set_config('role', 'none', true);
      return 'mark_message_read';
    end if;
    perform mqchat_mark_read((select room from conversations where id = m.conversation_id), a.username, m.id, null);
    return 'mqchat_mark_read';
  elsif r < 0.75 then                                -- up_to read (the bridge)
    perform mqchat_mark_read((select room from conversations where id = m.conversation_id), a.username, null, m.id);
    return 'up_to';
  elsif r < 0.82 then                                -- edit own
    select * into m from messages where sender_id = a.id and deleted_at is null order by random() limit 1;
    if m.id is null then return 'nothing'; end if;
    perform set_config('role', 'mqchat_app', true);
    perform edit_message(m.id, 'edited ' || r);
    perform set_config('role', 'none', true);
    return 'edit_message';
  elsif r < 0.92 then                                -- delete own, SQL or the bridge
    select * into m from messages where sender_id = a.id and deleted_at is null order by random() limit 1;
    if m.id is null then return 'nothing'; end if;
    if random() < 0.5 then
      perform set_config('role', 'mqchat_app', true);
      perform delete_message(m.id);
      perform set_config('role', 'none', true);
      return 'delete_message';
    end if;
    perform mqchat_change_message((select room from conversations where id = m.conversation_id), a.username, m.id, null);
    return 'mqchat_change_message delete';
  elsif r < 0.94 then                                -- the owner's hand: hard delete
    delete from messages where id = m.id;
    return 'hard delete';
  elsif r < 0.96 then                                -- the owner's hand: a receipt removed
    delete from message_read_status where message_id = m.id;
    return 'receipt removed';
  elsif r < 0.98 then                                -- the owner's hand: an undelete
    update messages set deleted_at = null, content = 'restored' where id = m.id and deleted_at is not null;
    return 'undelete';
  elsif r < 0.99 then                                -- the owner's hand: a receipt for anything (deleted, own)
    select m2.* into m from messages m2 join conversations c on c.id = m2.conversation_id
     where a.id in (c.participant_1, c.participant_2) order by m2.deleted_at is null and m2.sender_id <> a.id, random() limit 1;
    insert into message_read_status (message_id, user_id) values (m.id, a.id) on conflict do nothing;
    return 'receipt by owner';
  end if;
  update messages set content = 'owner edit', metadata = '{"k": 1}' where id = m.id and deleted_at is null;
  return 'owner edit';
end $$;

do $$
declare
  seed double precision := random() * 2 - 1;
  what text;
begin
  perform setseed(seed);
  perform pg_temp.check_counts('nothing');
  for i in 1..400 loop
    what := pg_temp.random_step();
    perform pg_temp.check_counts(format('step %s (%s), seed %s', i, what, seed));
  end loop;
  -- Everyone reads everything up to the last message: no unread left anywhere.
  for what in select c.room || ' ' || u.username from conversations c join users u on u.id in (c.participant_1, c.participant_2)
               where c.last_message_id is not null loop
    perform mqchat_mark_read(split_part(what, ' ', 1), split_part(what, ' ', 2), null,
                             (select last_message_id from conversations where room = split_part(what, ' ', 1)));
  end loop;
  perform pg_temp.check_counts(format('reading everything, seed %s', seed));
  perform pg_temp.assert_eq((select sum(unread_1 + unread_2) from conversations c
                              where exists (select 1 from users where id = c.participant_1)), 0::bigint,
                            format('nothing unread after reading up to the last message (seed %s)', seed));
  perform pg_temp.assert((select count(*) from messages) > 100, format('the history is not trivial (seed %s)', seed));
end $$;
