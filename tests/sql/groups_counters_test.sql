-- Per-member unread counts of groups (034) against a full recount, on random histories in three
-- groups of five users: sends (SQL API, direct inserts, mqchat_ingest batches and the COPY merge,
-- with late messages), reads (single and up_to, SQL and bridge), edits, deletions (SQL and bridge),
-- members added and removed, and the owner's rare hand edits (hard deletes, receipts removed,
-- undeletes). After every step each member's count matches the recount, and each member's summary
-- and get_user_conversations entry show it.
insert into profiles (username, password_hash) values
  ('t-dave', crypt('pw', gen_salt('bf', 4))), ('t-erin', crypt('pw', gen_salt('bf', 4)));
create temp table users as select id, username from profiles
  where username in ('t-alice', 't-bob', 't-carol', 't-dave', 't-erin');
create temp table tokens as select username, mqchat_sign_in(username, 'pw') as token from users;
create temp table groups (room text);
grant select on users, tokens, groups to mqchat_app;
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape);

create function pg_temp.uuid_at(back_ms bigint) returns uuid language sql volatile as $$
  select (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint - back_ms), 12, '0') || '7' ||
          substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
$$;

create function pg_temp.check_group_counts(step text) returns void language plpgsql as $$
declare
  bad record;
  got bigint;
begin
  for bad in
    select c.room, p.username, cm.unread, cm.user_id,
           (select count(*) from messages m
             where m.conversation_id = c.id and m.sender_id <> cm.user_id and m.deleted_at is null
               and (cm.joined_after is null or m.id > cm.joined_after)
               and not exists (select 1 from message_read_status r where r.message_id = m.id and r.user_id = cm.user_id)) as n,
           (select m.id from messages m where m.conversation_id = c.id order by m.id desc limit 1) as last_id,
           c.last_message_id
      from conversation_members cm join conversations c on c.id = cm.conversation_id join profiles p on p.id = cm.user_id
  loop
    if bad.unread <> bad.n then
      raise exception 'after %: % has unread % for %, recount %', step, bad.room, bad.unread, bad.username, bad.n;
    end if;
    if bad.last_message_id is distinct from bad.last_id then
      raise exception 'after %: % last message % but newest is %', step, bad.room, bad.last_message_id, bad.last_id;
    end if;
    select (e->>'unread_count')::bigint into got
      from mqchat_summaries(array[bad.username]) s, jsonb_array_elements(s.summary) e where e->>'room' = bad.room;
    if got is distinct from bad.n then
      raise exception 'after %: summary of % in % says %, recount %', step, bad.username, bad.room, got, bad.n;
    end if;
    perform set_config('mqchat.token', (select token from tokens where username = bad.username), true);
    perform set_config('role', 'mqchat_app', true);
    select unread_count into got from get_user_conversations() where room = bad.room;
    perform set_config('role', 'none', true);
    if got is distinct from bad.n then
      raise exception 'after %: get_user_conversations of % in % says %, recount %', step, bad.username, bad.room, got, bad.n;
    end if;
  end loop;
end $$;

create function pg_temp.random_step() returns text language plpgsql as $$
declare
  a users;
  b users;
  g text;
  cid uuid;
  m record;
  r double precision := random();
begin
  select room into g from groups order by random() limit 1;
  cid := mqchat_conversation_id(g);
  select u.* into a from users u join conversation_members cm on cm.user_id = u.id and cm.conversation_id = cid
   order by random() limit 1;
  perform set_config('mqchat.token', (select token from tokens where username = a.username), true);
  if r < 0.18 then
    perform set_config('role', 'mqchat_app', true);
    perform send_group_message(g, 'sql ' || r);
    perform set_config('role', 'none', true);
    return 'send_group_message';
  elsif r < 0.22 then
    perform set_config('role', 'mqchat_app', true);
    insert into messages (conversation_id, sender_id, content) values (cid, a.id, 'direct ' || r);
    perform set_config('role', 'none', true);
    return 'insert as app';
  elsif r < 0.30 then                                -- a shipper batch, some late, replayed
    perform mqchat_ingest(jsonb_build_array(jsonb_build_object(
      'id', pg_temp.uuid_at(case when random() < 0.3 then (random() * 3000)::bigint else 0 end),
      'conversation_id', cid, 'room', g, 'sender', a.username, 'content', 'json ' || r, 'type', 'text',
      'metadata', '{}'::jsonb, 'client_id', null, 'created_at', mqchat_ts(now()))));
    return 'ingest';
  elsif r < 0.36 then                                -- the COPY merge
    insert into pg_temp.mqchat_ingest_stage
    select pg_temp.uuid_at(case when random() < 0.3 then (random() * 3000)::bigint else 0 end), cid, a.id,
           'copy ' || r || ' ' || i, 'text', '{}', null, now()
      from generate_series(1, 1 + (random() * 3)::int) i;
    perform mqchat_ingest_staged();
    delete from pg_temp.mqchat_ingest_stage;
    return 'ingest_staged';
  elsif r < 0.40 then                                -- a member added (by the owner)
    select u.* into b from users u
     where not exists (select 1 from conversation_members cm where cm.conversation_id = cid and cm.user_id = u.id)
     order by random() limit 1;
    if b.id is null then return 'nothing'; end if;
    perform mqchat_group_request((select p.username from conversation_members cm join profiles p on p.id = cm.user_id
                                   where cm.conversation_id = cid and cm.role = 'owner'), 'add', g, null, array[b.username], null);
    return 'add member';
  elsif r < 0.43 then                                -- a member removed (by the owner)
    select u.* into b from users u join conversation_members cm on cm.user_id = u.id and cm.conversation_id = cid
     where cm.role <> 'owner' order by random() limit 1;
    if b.id is null or (select count(*) from conversation_members where conversation_id = cid) <= 3 then return 'nothing'; end if;
    perform mqchat_group_request((select p.username from conversation_members cm join profiles p on p.id = cm.user_id
                                   where cm.conversation_id = cid and cm.role = 'owner'), 'remove', g, null, array[b.username], null);
    return 'remove member';
  end if;
  select m2.* into m from messages m2 where m2.conversation_id = cid order by random() limit 1;
  if m.id is null then return 'nothing'; end if;
  if r < 0.62 then
    if m.sender_id = a.id then return 'own'; end if;
    if random() < 0.5 then
      perform set_config('role', 'mqchat_app', true);
      perform mark_message_read(m.id);
      perform set_config('role', 'none', true);
      return 'mark_message_read';
    end if;
    perform mqchat_mark_read(g, a.username, m.id, null);
    return 'mqchat_mark_read';
  elsif r < 0.75 then
    perform mqchat_mark_read(g, a.username, null, m.id);
    return 'up_to';
  elsif r < 0.80 then
    select * into m from messages where conversation_id = cid and sender_id = a.id and deleted_at is null order by random() limit 1;
    if m.id is null then return 'nothing'; end if;
    perform set_config('role', 'mqchat_app', true);
    perform edit_message(m.id, 'edited ' || r);
    perform set_config('role', 'none', true);
    return 'edit_message';
  elsif r < 0.90 then
    select * into m from messages where conversation_id = cid and sender_id = a.id and deleted_at is null order by random() limit 1;
    if m.id is null then return 'nothing'; end if;
    if random() < 0.5 then
      perform set_config('role', 'mqchat_app', true);
      perform delete_message(m.id);
      perform set_config('role', 'none', true);
      return 'delete_message';
    end if;
    perform mqchat_change_message(g, a.username, m.id, null);
    return 'mqchat_change_message delete';
  elsif r < 0.93 then
    delete from messages where id = m.id;
    return 'hard delete';
  elsif r < 0.96 then
    delete from message_read_status where message_id = m.id;
    return 'receipt removed';
  elsif r < 0.98 then
    update messages set deleted_at = null, content = 'restored' where id = m.id and deleted_at is not null;
    return 'undelete';
  end if;
  insert into message_read_status (message_id, user_id) values (m.id, a.id) on conflict do nothing;
  return 'receipt by owner';
end $$;

do $$
declare
  seed double precision := random() * 2 - 1;
  what text;
  owner text;
begin
  perform setseed(seed);
  for owner in select unnest(array['t-alice', 't-bob', 't-carol']) loop
    perform set_config('mqchat.token', (select token from tokens where username = owner), true);
    insert into groups
    select mqchat_group_request(owner, 'create', null, 'group of ' || owner,
                                array(select username from users where username <> owner order by random() limit 3),
                                null)->'group'->>'room';
  end loop;
  perform pg_temp.check_group_counts('created');
  for i in 1..300 loop
    what := pg_temp.random_step();
    perform pg_temp.check_group_counts(format('step %s (%s), seed %s', i, what, seed));
  end loop;
  for what in select g.room || ' ' || p.username from groups g
               join conversation_members cm on cm.conversation_id = mqchat_conversation_id(g.room)
               join profiles p on p.id = cm.user_id loop
    perform mqchat_mark_read(split_part(what, ' ', 1), split_part(what, ' ', 2), null,
                             (select last_message_id from conversations where room = split_part(what, ' ', 1)));
  end loop;
  perform pg_temp.check_group_counts(format('reading everything, seed %s', seed));
  perform pg_temp.assert_eq((select sum(unread) from conversation_members), 0::bigint,
                            format('nothing unread after reading up to the last message (seed %s)', seed));
  perform pg_temp.assert((select count(*) from messages) > 60, format('the history is not trivial (seed %s)', seed));
end $$;
