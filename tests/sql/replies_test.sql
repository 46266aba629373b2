-- Replies (030): same conversation only, whoever writes; quotes in live, history and summary forms;
-- a deleted target says so; the plugin's ingest (COPY merge and JSON path) stores a reply to a bad
-- target without it and tells the sender, and publishes every reply through the outbox.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'original from alice: ' || repeat('é', 120));
select send_message('t-bob', 'short one');
select pg_temp.act_as('t-carol');
select send_message('t-bob', 'carol to bob');
reset role;
create temp table ids as
  select (select id from messages where content like 'original from alice%') as original,
         (select id from messages where content = 'short one') as short_one,
         (select id from messages where content = 'carol to bob') as carol_to_bob;
grant select on ids to mqchat_app;
set local role mqchat_app;

-- Bob answers alice: the reply names its target, with a quote of its first 100 characters.
select pg_temp.act_as('t-bob');
create temp table r1 as select reply_to_message((select original from ids), 'my answer') as j;
grant select on r1 to mqchat_app;
select pg_temp.assert_eq((select j->>'room' from r1), 't-alice_t-bob', 'the target decides the conversation');
select pg_temp.assert_eq((select j->'reply_to'->>'id' from r1), (select original::text from ids), 'reply_to names the target');
select pg_temp.assert_eq((select j->'reply_to'->>'sender' from r1), 't-alice', 'quote: sender');
select pg_temp.assert_eq((select char_length(j->'reply_to'->>'content') from r1), 100, 'quote: first 100 characters');
select pg_temp.assert_eq((select j->'reply_to'->>'content' from r1),
                         left('original from alice: ' || repeat('é', 120), 100), 'quote: the text (characters, not bytes)');
select pg_temp.assert_eq((select (j->'reply_to'->>'truncated')::boolean from r1), true, 'quote: says it is cut');
select pg_temp.assert_eq((select (j->'reply_to'->>'deleted')::boolean from r1), false, 'quote: not deleted');

-- Attacks: a target in a conversation bob is in but another one (carol's) is refused by the key,
-- whichever way he writes; a target in a conversation he is not in is not even found.
select pg_temp.assert_fails_with(
  $$insert into messages (conversation_id, sender_id, content, reply_to)
    values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), 'forged', (select carol_to_bob from ids))$$,
  '23503', 'messages_reply_same_conversation', 'a reply into another conversation is refused');
select pg_temp.act_as('t-alice');
select pg_temp.assert_fails_with($$select reply_to_message((select carol_to_bob from ids), 'forged')$$, '42501',
                                 'in your conversations', 'cannot answer a message of a conversation one is not in');
select pg_temp.assert_fails_with(
  $$insert into messages (conversation_id, sender_id, content, reply_to)
    values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'forged', uuidv7())$$,
  '23503', 'messages_reply_same_conversation', 'a reply to no message is refused');
select pg_temp.assert_fails_with(
  $$insert into messages (conversation_id, sender_id, content, reply_to)
    values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'forged', (select carol_to_bob from ids))$$,
  '23503', 'messages_reply_same_conversation', 'the direct insert path checks too');

-- A direct insert answering a message of the conversation is fine (and published with its quote).
insert into messages (conversation_id, sender_id, content, reply_to)
values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'direct reply', (select short_one from ids));

-- The target is deleted: history says so, and keeps no text of it.
select delete_message((select original from ids));
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq(
  (select m->'reply_to' from jsonb_array_elements(get_conversation_by_username('t-alice')->'messages') m
    where m->>'content' = 'my answer'),
  jsonb_build_object('id', (select original from ids), 'sender', 't-alice', 'content', null, 'truncated', false,
                     'type', 'text', 'deleted', true),
  'a reply to a deleted message says so');
select pg_temp.assert((select (m->'reply_to') is null from jsonb_array_elements(get_conversation_by_username('t-alice')->'messages') m
                        where m->>'content' = 'short one'), 'a message that answers nothing has no reply_to');
select pg_temp.assert_eq((select last_message->'reply_to'->>'content' from get_user_conversations() where with_user = 't-alice'),
                         'short one', 'the summary''s last message carries its quote');

-- What the bridge publishes for them: the live form with the quote.
reset role;
select pg_temp.assert_eq(
  (select payload::jsonb->'reply_to'->>'content' from mqchat_outbox_pending(1000) where payload::jsonb->>'content' = 'direct reply'),
  'short one', 'the outbox renders the quote');
select pg_temp.assert_eq(
  (select payload::jsonb->'reply_to'->>'deleted' from mqchat_outbox_pending(1000) where payload::jsonb->>'content' = 'my answer'),
  'true', 'rendered when published: the target was deleted meanwhile');
select pg_temp.assert_eq(
  (select mqchat_history('t-alice_t-bob', 't-bob', null, null, 50)->'messages'->-1->'reply_to'->>'id'),
  (select short_one::text from ids), 'bridge history pages carry quotes');

-- A hard delete of a target (owner) leaves the reply without it, not a dangling id.
delete from messages where id = (select short_one from ids);
select pg_temp.assert_eq((select reply_to from messages where content = 'direct reply'), null, 'on delete set null');
delete from mqchat_outbox;

-- The plugin's ingest, JSON path: a reply to a message of the same batch, one to a stored message,
-- and forged ones (another conversation's message, no message) — all stored, the forged without it.
create temp table batch as
  select uuidv7() as m1, uuidv7() as m2, uuidv7() as m3, uuidv7() as m4, uuidv7() as m5;
select mqchat_ingest(jsonb_build_array(
  jsonb_build_object('id', m1, 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'batch first', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', null, 'created_at', now()),
  jsonb_build_object('id', m2, 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-bob', 'content', 'answers batch first', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', null, 'created_at', now(), 'reply_to', m1),
  jsonb_build_object('id', m3, 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-bob', 'content', 'answers a stored one', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', null, 'created_at', now(), 'reply_to', (select id from messages where content = 'my answer')),
  jsonb_build_object('id', m4, 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'forged target', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', 'c-4', 'created_at', now(), 'reply_to', (select carol_to_bob from ids)),
  jsonb_build_object('id', m5, 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob',
                     'sender', 't-alice', 'content', 'no such target', 'type', 'text', 'metadata', '{}'::jsonb,
                     'client_id', null, 'created_at', now(), 'reply_to', uuidv7())))
  from batch;
select pg_temp.assert_eq((select reply_to from messages where id = (select m2 from batch)), (select m1 from batch),
                         'a reply to a message of the same batch');
select pg_temp.assert((select reply_to is not null from messages where id = (select m3 from batch)), 'a reply to a stored one');
select pg_temp.assert_eq((select count(*) from messages where id in (select m4 from batch union select m5 from batch)
                           and reply_to is null), 2::bigint, 'forged targets: stored, without the reply');
select pg_temp.assert_eq((select count(*) from mqchat_outbox where channel = 'messages'), 4::bigint,
                         'every reply is published by the bridge (the plugin holds replies back)');
select pg_temp.assert_eq(
  (select array_agg(topic order by seq) from mqchat_outbox_pending(100) where topic like 'users/%'),
  array['users/t-alice/errors', 'users/t-alice/errors'], 'the sender of each forged reply is told');
select pg_temp.assert_eq(
  (select payload::jsonb - 'reason' from mqchat_outbox_pending(100) where payload::jsonb->>'client_id' = 'c-4'
      and topic = 'users/t-alice/errors'),
  jsonb_build_object('topic', 'chat/t-alice_t-bob/messages', 'client_id', 'c-4', 'code', 'bad_reply_to'),
  'reported like the plugin reports');
select pg_temp.assert(
  (select bool_and(payload::jsonb->'reply_to'->>'sender' = 't-alice') from mqchat_outbox_pending(100)
    where payload::jsonb->>'content' = 'answers batch first'), 'the published reply carries its quote');
select pg_temp.assert_eq(mqchat_ingest(jsonb_build_array(jsonb_build_object(
  'id', m2, 'conversation_id', mqchat_conversation_id('t-alice_t-bob'), 'room', 't-alice_t-bob', 'sender', 't-bob',
  'content', 'answers batch first', 'type', 'text', 'metadata', '{}'::jsonb, 'client_id', null, 'created_at', now(),
  'reply_to', m1))), 0, 'replayed: nothing new stored') from batch;

-- The COPY merge: the same rules.
delete from mqchat_outbox;
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows;
create temp table batch2 as select uuidv7() as m1, uuidv7() as m2, uuidv7() as m3;
insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id,
                                         created_at, reply_to)
select m1, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'copy first', 'text', '{}'::jsonb, null::text, now(), null::uuid
  from batch2
union all
select m2, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), 'copy answer', 'text', '{}'::jsonb, null, now(), m1
  from batch2
union all
select m3, mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), 'copy forged', 'text', '{}'::jsonb, 'c-9', now(),
       (select carol_to_bob from ids)
  from batch2;
select pg_temp.assert_eq(mqchat_ingest_staged(), 3, 'all three stored');
select pg_temp.assert_eq((select reply_to from messages where id = (select m2 from batch2)), (select m1 from batch2),
                         'COPY: a reply to a message of the same batch');
select pg_temp.assert_eq((select reply_to from messages where id = (select m3 from batch2)), null,
                         'COPY: a forged target is dropped');
select pg_temp.assert_eq((select count(*) from mqchat_outbox where channel = 'messages'), 2::bigint, 'COPY: replies published');
select pg_temp.assert_eq((select username || ' ' || (payload->>'code') from mqchat_outbox where channel = 'errors'),
                         't-bob bad_reply_to', 'COPY: the sender is told');
select pg_temp.assert_fails_with($$update messages set reply_to = id where content = 'copy first'$$, '23514',
                                 'messages_reply_not_self', 'not an answer to itself');

-- The app role cannot call the ingest's helpers.
set local role mqchat_app;
select pg_temp.assert_fails_with(call, '42501', 'permission denied for function', 'cannot call ' || call)
  from (values ($$select mqchat_reply_ingested(uuidv7(), uuidv7())$$),
               ($$select mqchat_quote_json(uuidv7())$$)) c(call);
