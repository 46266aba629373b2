-- Usernames, canonical conversations, message constraints.
select pg_temp.assert_fails($$insert into profiles (username) values ('a_b')$$, '23514', 'underscore refused');
select pg_temp.assert_fails($$insert into profiles (username) values ('Alice')$$, '23514', 'uppercase refused');
select pg_temp.assert_fails($$insert into profiles (username) values ('a/b')$$, '23514', 'slash refused');
select pg_temp.assert_fails($$insert into profiles (username) values ('a+b')$$, '23514', 'plus refused');
select pg_temp.assert_fails($$insert into profiles (username) values ('.ab')$$, '23514', 'must start alphanumeric');
select pg_temp.assert_fails($$insert into profiles (username) values ('')$$, '23514', 'empty refused');
select pg_temp.assert_fails($$insert into profiles (username) values (repeat('a', 33))$$, '23514', '33 chars refused');
insert into profiles (username) values (repeat('a', 32)), ('a.b-9');

-- Inserted in reverse order, stored canonically with the plugin's id.
insert into conversations (id, room, participant_1, participant_2)
values (gen_random_uuid(), 'whatever', pg_temp.user_id('t-bob'), pg_temp.user_id('t-alice'));
select pg_temp.assert(
  (select participant_1 = pg_temp.user_id('t-alice') and room = 't-alice_t-bob'
          and id = mqchat_conversation_id('t-alice_t-bob') from conversations where room = 't-alice_t-bob'),
  'canonical order, room and id');
select pg_temp.assert(mqchat_conversation_id('alice_bob') = 'a8317252-b055-588a-b115-3f659665aed8',
                      'conversation id matches the plugin''s UUIDv5');
select pg_temp.assert_fails(
  $$insert into conversations (id, room, participant_1, participant_2)
    values (gen_random_uuid(), '', pg_temp.user_id('t-alice'), pg_temp.user_id('t-bob'))$$, '23505',
  'one conversation per pair, whatever the order');
select pg_temp.assert_fails(
  $$insert into conversations (id, room, participant_1, participant_2)
    values (gen_random_uuid(), '', pg_temp.user_id('t-alice'), pg_temp.user_id('t-alice'))$$, '23514',
  'no self-conversation');

-- Content: 1..4000 characters, not blank; counted in characters, not bytes.
create temp table c as select id from conversations where room = 't-alice_t-bob';
insert into messages (conversation_id, sender_id, content)
select id, pg_temp.user_id('t-alice'), repeat('é', 4000) from c;
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content)
    select id, pg_temp.user_id('t-alice'), repeat('é', 4001) from c$$, '23514', '4001 characters refused');
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content) select id, pg_temp.user_id('t-alice'), e' \t\n' from c$$,
  '23514', 'blank refused');
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content, message_type)
    select id, pg_temp.user_id('t-alice'), 'x', 'video' from c$$, '23514', 'unknown type refused');
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content, metadata)
    select id, pg_temp.user_id('t-alice'), 'x', '[1]' from c$$, '23514', 'metadata must be an object');
select pg_temp.assert(
  (select substr(id::text, 15, 1) = '7' from messages limit 1), 'message ids are UUIDv7');
select pg_temp.assert(mqchat_ts('2026-01-02 03:04:05.123456+00') = '2026-01-02T03:04:05.123456Z', 'RFC 3339 stamps');

-- Only a deleted message has no content (deletion erases it).
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content) select id, pg_temp.user_id('t-alice'), null from c$$,
  '23514', 'no content without deletion');

-- A conversation is never younger than its first message, whoever
-- inserts (the shipper's batch, created an hour late; or messages stamped before the SQL-created row).
select mqchat_ingest(jsonb_build_array(jsonb_build_object(
  'id', uuidv7(), 'conversation_id', mqchat_conversation_id('t-bob_t-carol'), 'room', 't-bob_t-carol',
  'sender', 't-bob', 'content', 'sent an hour ago', 'type', 'text', 'metadata', '{}'::jsonb,
  'created_at', now() - interval '1 hour')));
select pg_temp.assert_eq((select created_at from conversations where room = 't-bob_t-carol'), now() - interval '1 hour',
                         'created_at = first message (conversation made by the shipper)');
select mqchat_ingest(jsonb_build_array(jsonb_build_object(
  'id', uuidv7(), 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
  'sender', 't-bob', 'content', 'stamped before the row', 'type', 'text', 'metadata', '{}'::jsonb,
  'created_at', now() - interval '2 hours')));
select pg_temp.assert_eq((select created_at from conversations where room = 't-alice_t-bob'), now() - interval '2 hours',
                         'created_at moves back to an earlier first message');
select pg_temp.assert(
  (select bool_and(c.created_at <= (select min(created_at) from messages m where m.conversation_id = c.id))
     from conversations c where exists (select 1 from messages m where m.conversation_id = c.id)),
  'no conversation is younger than its first message');
