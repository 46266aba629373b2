-- 040: one row per (conversation, sender, client_id) of MQTT messages, whichever node's shipper
-- merges the copy and through which path; other senders and rooms, and SQL sends, are not keys.
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows;
select mqchat_ensure_conversations(array['t-alice_t-bob', 't-alice_t-carol'], array[now(), now()]);
create temp table ids as select uuidv7() as a1, uuidv7() as a2, uuidv7() as b1, uuidv7() as b2, uuidv7() as b3;

-- Node A's shipper (COPY path) stores k1 and k2.
insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id, created_at)
select a1, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'from node A', 'text', '{}'::jsonb, 'k1', now() from ids
union all
select a2, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'second', 'text', '{}'::jsonb, 'k2', now() from ids;
select pg_temp.assert_eq(mqchat_ingest_staged(), 2, 'node A: both stored');

-- Node B's shipper gets the retry of k1 (another id), bob's own k1 and k1 in another room.
insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id, created_at)
select b1, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'from node A', 'text', '{}'::jsonb, 'k1', now() from ids
union all
select b2, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), 'bob k1', 'text', '{}'::jsonb, 'k1', now() from ids
union all
select b3, mqchat_conversation_id('t-alice_t-carol'), pg_temp.user_id('t-alice'), 'k1 to carol', 'text', '{}'::jsonb, 'k1', now()
  from ids;
select pg_temp.assert_eq(mqchat_ingest_staged(), 2, 'node B: the retry skipped, the others stored');
select pg_temp.assert_eq((select count(*) from messages where client_id = 'k1'), 3::bigint, 'k1: once per sender and room');
select pg_temp.assert_eq((select count(*) from messages where id = (select b1 from ids)), 0::bigint, 'the second copy is not stored');

-- The JSON path (the shipper's fallback) skips it too, and a batch replayed whole stores nothing.
select pg_temp.assert_eq(mqchat_ingest(jsonb_build_array(
  jsonb_build_object('id', uuidv7(), 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'second', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', 'k2', 'created_at', now()),
  jsonb_build_object('id', uuidv7(), 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'new', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', 'k3', 'created_at', now()))), 1, 'JSON path: k2 skipped, k3 stored');
select pg_temp.assert_eq((select count(*) from messages where client_id in ('k2', 'k3')), 2::bigint, 'k2 and k3 once each');

-- Messages without a client_id are never keys; SQL sends keep their client_id as a label only.
select pg_temp.assert_eq(mqchat_ingest(jsonb_build_array(
  jsonb_build_object('id', uuidv7(), 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'plain', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', null, 'created_at', now()),
  jsonb_build_object('id', uuidv7(), 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'plain', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', null, 'created_at', now()))), 2, 'no client_id: both stored');
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'sql one', 'text', '{}'::jsonb, 'k1');
select send_message('t-bob', 'sql two', 'text', '{}'::jsonb, 'k1');
reset role;
select pg_temp.assert_eq((select count(*) from messages where client_id = 'k1' and origin = 'sql'), 2::bigint,
                         'SQL sends: client_id is not a key');
