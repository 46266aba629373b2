-- The original system's functions plus edit and delete, called as the app role acting as a user
-- (signed in with a password, token in mqchat.token), each with its exact outcome or error.
set local role mqchat_app;
select pg_temp.assert_fails_with($$select send_message('t-bob', 'hi')$$, '28000', 'no acting user', 'needs an acting user');

select pg_temp.act_as('t-alice');
select pg_temp.assert_eq((select username from mqchat_whoami()), 't-alice', 'the token names alice');
select pg_temp.assert_eq((send_message('t-bob', 'hello bob')->>'sender'), 't-alice', 'send_message returns the message');
select pg_temp.assert_eq(
  (select array_agg(k order by k) from jsonb_object_keys(send_message('t-bob', 'second', 'image', '{"url": "x"}', 'c-2')) k),
  array['client_id', 'content', 'conversation_id', 'created_at', 'id', 'metadata', 'room', 'sender', 'type'],
  'send_message returns the live (MQTT) form');
select pg_temp.assert_fails_with($$select send_message('t-bob', '   ')$$, '23514', 'messages_content_check', 'blank refused');
select pg_temp.assert_fails_with($$select send_message('t-bob', repeat('x', 4001))$$, '23514', 'messages_content_check',
                                 'too long refused');
select pg_temp.assert_fails_with($$select send_message('t-bob', 'x', 'video')$$, '23514', 'message_type', 'bad type');
select pg_temp.assert_fails_with($$select send_message('t-bob', 'x', 'text', '[1]')$$, '23514', 'metadata', 'bad metadata');
select pg_temp.assert_fails_with(
  $$select send_message('t-bob', 'x', 'text', jsonb_build_object('k', repeat('y', 9000)))$$, '23514',
  'messages_sql_metadata_size', 'metadata over 8 KiB refused like the plugin does');
select pg_temp.assert_fails_with($$select send_message('nobody', 'x')$$, '23503', 'no user named nobody', 'unknown recipient');
select pg_temp.assert_fails_with($$select send_message('t-alice', 'x')$$, '23514', 'two different users', 'not to oneself');
select pg_temp.assert_fails_with($$select get_or_create_conversation(pg_temp.user_id('t-bob'), pg_temp.user_id('t-carol'))$$,
                                 '42501', 'you can only open conversations you take part in', 'only own conversations');
select pg_temp.assert_eq(
  get_or_create_conversation(pg_temp.user_id('t-alice'), pg_temp.user_id('t-bob')),
  get_or_create_conversation(pg_temp.user_id('t-bob'), pg_temp.user_id('t-alice')), 'same conversation either way');
select pg_temp.assert_eq(get_or_create_conversation(pg_temp.user_id('t-alice'), pg_temp.user_id('t-bob')),
                         mqchat_conversation_id('t-alice_t-bob'), 'the plugin''s conversation id');

select pg_temp.act_as('t-bob');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where with_user = 't-alice'), 2::bigint,
                         'bob has 2 unread');
select pg_temp.assert_eq(jsonb_array_length(get_conversation_by_username('t-alice')->'messages'), 2, 'history has both');
select pg_temp.assert_eq(get_conversation_by_username('t-alice')->'messages'->0->>'content', 'hello bob', 'oldest first');
select pg_temp.assert_eq(get_conversation_by_username('t-alice')->'messages'->0->>'read_at', null, 'not read yet');

-- Reading: once (true), then idempotent (false, no second receipt, read_at unchanged).
select pg_temp.assert(mark_message_read((select id from messages where content = 'hello bob')), 'newly read');
create temp table first_read as
  select r.read_at from message_read_status r join messages m on m.id = r.message_id where m.content = 'hello bob';
select pg_temp.assert(not mark_message_read((select id from messages where content = 'hello bob')), 'idempotent');
select pg_temp.assert_eq((select r.read_at from message_read_status r join messages m on m.id = r.message_id
                           where m.content = 'hello bob'), (select read_at from first_read), 'read_at kept');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where with_user = 't-alice'), 1::bigint,
                         'one left');
select pg_temp.assert_eq(get_conversation_by_username('t-alice')->'messages'->0->>'read_at',
                         mqchat_ts((select read_at from first_read)), 'history shows the stored read_at');
select pg_temp.assert_fails_with($$select mark_message_read(uuidv7())$$, '42501', 'in your conversations', 'no such message');

select pg_temp.act_as('t-alice');
select pg_temp.assert_fails_with($$select mark_message_read((select id from messages where content = 'second'))$$, '42501',
                                 'is your own', 'cannot mark own message read');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where with_user = 't-bob'), 0::bigint,
                         'alice: 0 unread');

-- Edit: own messages only, same content rules, sets the edited flag.
create temp table second as select id from messages where content = 'second';
select pg_temp.assert_eq(edit_message((select id from second), 'second, edited')->>'content', 'second, edited',
                         'edit returns the message');
select pg_temp.assert_eq(
  (select is_edited::text || '|' || (edited_at is not null)::text from messages where id = (select id from second)),
  'true|true', 'edited flag and time set');
select pg_temp.assert_fails_with($$select edit_message((select id from second), ' ')$$, '23514', 'messages_content_check',
                                 'blank edit refused');
select pg_temp.assert_fails_with($$select edit_message((select id from second), null)$$, '23514', 'messages_content_check',
                                 'null edit refused');
select pg_temp.assert_fails_with($$select edit_message(uuidv7(), 'x')$$, '42501', 'in your conversations',
                                 'edit of no message');
select pg_temp.act_as('t-bob');
select pg_temp.assert_fails_with($$select edit_message((select id from second), 'pwned')$$, '42501',
                                 'only edit your own', 'bob cannot edit alice''s message');
select pg_temp.assert_fails_with($$select delete_message((select id from second))$$, '42501',
                                 'only delete your own', 'bob cannot delete alice''s message');
select pg_temp.act_as('t-carol');
select pg_temp.assert_fails_with($$select edit_message((select id from second), 'x')$$, '42501', 'in your conversations',
                                 'carol cannot even see it');

-- Delete: erases content and metadata, keeps its place; a second delete or an edit is refused.
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq(delete_message((select id from second)) - 'created_at' - 'id' - 'conversation_id' - 'edited_at'
                           - 'deleted_at',
                         jsonb_build_object('room', 't-alice_t-bob', 'sender', 't-alice', 'content', null, 'type', 'image',
                                            'metadata', '{}'::jsonb, 'client_id', 'c-2', 'is_edited', true,
                                            'deleted', true),
                         'delete returns the erased message');
select pg_temp.assert_fails_with($$select delete_message((select id from second))$$, '55000', 'was deleted', 'deleted twice');
select pg_temp.assert_fails_with($$select edit_message((select id from second), 'back')$$, '55000', 'was deleted',
                                 'edit after delete');
-- The summary's last message has the same form as the MQTT summary (is_edited, deleted, …).
select pg_temp.assert_eq(
  (select last_message - 'created_at' - 'id' - 'conversation_id' - 'edited_at' - 'deleted_at'
     from get_user_conversations() where with_user = 't-bob'),
  jsonb_build_object('room', 't-alice_t-bob', 'sender', 't-alice', 'content', null, 'type', 'image',
                     'metadata', '{}'::jsonb, 'client_id', 'c-2', 'is_edited', true, 'deleted', true),
  'SQL summary last_message carries is_edited and deleted');
select pg_temp.act_as('t-bob');
select pg_temp.assert(not mark_message_read((select id from second)), 'a deleted message is not marked read');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where with_user = 't-alice'), 0::bigint,
                         'a deleted message is not unread');

-- 60 messages: get_conversation_by_username serves the last 50.
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'n' || i) from generate_series(1, 60) i;
select pg_temp.assert_eq(jsonb_array_length(get_conversation_by_username('t-bob')->'messages'), 50, 'last 50');
select pg_temp.assert_eq(get_conversation_by_username('t-bob')->'messages'->49->>'content', 'n60', 'newest last');
select send_message('t-carol', 'hi carol');
select pg_temp.assert_eq((select with_user from get_user_conversations() limit 1), 't-carol', 'most recent first');

-- What the bridge publishes (the outbox, owner-only): every SQL-sent message, then each event,
-- in order, with the same keys as the MQTT path's events.
reset role;
select pg_temp.assert_eq((select count(*) from mqchat_outbox where channel = 'messages'), 63::bigint,
                         'every message sent through SQL is queued for MQTT');
select pg_temp.assert_eq(
  (select array_agg(payload->>'event' order by seq) from mqchat_outbox where channel = 'events'),
  array['read', 'edited', 'deleted'], 'one event per change, none for the repeated read');
select pg_temp.assert_eq(
  (select payload from mqchat_outbox where channel = 'events' and payload->>'event' = 'read'),
  jsonb_build_object('event', 'read', 'reader', 't-bob',
                     'message_id', (select id from messages where content = 'hello bob'),
                     'read_at', mqchat_ts((select read_at from first_read))),
  'the read event names the reader, the message and the stored read_at');
select pg_temp.assert_eq(
  (select payload - 'edited_at' from mqchat_outbox where channel = 'events' and payload->>'event' = 'edited'),
  jsonb_build_object('event', 'edited', 'id', (select id from second), 'content', 'second, edited'), 'edited event');
select pg_temp.assert_eq(
  (select payload - 'deleted_at' from mqchat_outbox where channel = 'events' and payload->>'event' = 'deleted'),
  jsonb_build_object('event', 'deleted', 'id', (select id from second)), 'deleted event');
select pg_temp.assert_eq(
  (select topic from mqchat_outbox_pending(1000) where payload::jsonb->>'event' = 'read'), 'chat/t-alice_t-bob/events',
  'events go to the room''s events topic');
select pg_temp.assert_eq(
  (select payload::jsonb->>'content' from mqchat_outbox_pending(1000) where payload::jsonb->>'id' = (select id::text from second)
     and topic = 'chat/t-alice_t-bob/messages'),
  null, 'a message deleted before it was published goes out erased');
select pg_temp.assert_eq((select content from messages where id = (select id from second)), null,
                         'erased: not even the owner reads it');
