-- Row-level security and column privileges: as the app role, a user sees only their own
-- conversations and changes only what the product lets them change. Every tampering attempt of
-- the review (and variants) fails with its exact error and changes nothing.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'for bob');
select pg_temp.act_as('t-carol');
select send_message('t-bob', 'carol to bob');
select send_message('t-alice', 'carol to alice');
create temp table ids as
  select (select id from messages where content = 'carol to bob') as carol_to_bob,
         (select id from messages where content = 'carol to alice') as carol_to_alice;
select pg_temp.act_as('t-alice');
create temp table alice_ids as select (select id from messages where content = 'for bob') as for_bob;

-- Visibility.
select pg_temp.act_as('t-carol');
select pg_temp.assert_eq((select count(*) from conversations), 2::bigint, 'carol sees only her conversations');
select pg_temp.assert_eq((select count(*) from messages), 2::bigint, 'carol sees only her messages');
select pg_temp.assert_eq((select count(*) from messages where content = 'for bob'), 0::bigint, 'not alice''s');
select pg_temp.assert_fails_with($$select password_hash from profiles$$, '42501', 'permission denied', 'password hashes hidden');
select pg_temp.assert_fails_with($$select * from mqchat_secrets$$, '42501', 'permission denied', 'token key hidden');
select pg_temp.assert_fails_with($$select * from mqchat_outbox$$, '42501', 'permission denied', 'outbox hidden');
select pg_temp.assert_fails_with($$select * from ingest_rejects$$, '42501', 'permission denied', 'rejects hidden');

-- Writing messages directly: only new messages of your own, only the columns a sender chooses.
select pg_temp.assert_fails_with(
  $$insert into messages (conversation_id, sender_id, content)
    values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-carol'), 'intrusion')$$, '42501',
  'row-level security', 'cannot write into another conversation');
select pg_temp.assert_fails_with(
  $$insert into messages (conversation_id, sender_id, content)
    values (mqchat_conversation_id('t-bob_t-carol'), pg_temp.user_id('t-bob'), 'spoofed')$$, '42501',
  'row-level security', 'cannot send as someone else');
select pg_temp.assert_fails_with(
  format($$insert into messages (conversation_id, sender_id, content, %s) values
          (mqchat_conversation_id('t-bob_t-carol'), pg_temp.user_id('t-carol'), 'forged', %s)$$, col, val),
  '42501', 'permission denied', 'cannot choose ' || col)
  from (values ('id', 'uuidv7()'), ('created_at', $$'2000-01-01'$$), ('origin', $$'mqtt'$$), ('is_edited', 'true'),
               ('edited_at', 'now()'), ('deleted_at', 'now()')) forged(col, val);
-- A legitimate direct insert works like send_message: stored as sent through SQL, queued for MQTT.
insert into messages (conversation_id, sender_id, content, client_id)
values (mqchat_conversation_id('t-bob_t-carol'), pg_temp.user_id('t-carol'), 'direct insert', 'd-1');

-- Changing messages: never directly (edit_message / delete_message are the way).
select pg_temp.assert_fails_with(format($$update messages set %s$$, assignment), '42501', 'permission denied',
                                 'cannot update ' || assignment)
  from (values ($$content = 'rewritten'$$), ('created_at = created_at - interval ''1 day'''), ('is_edited = false'),
               ('edited_at = null'), ('deleted_at = null'), ($$conversation_id = mqchat_conversation_id('t-alice_t-bob')$$),
               ('sender_id = sender_id'), ('id = uuidv7()'), ($$origin = 'mqtt'$$), ($$metadata = '{}'$$)) a(assignment);
select pg_temp.assert_fails_with($$delete from messages$$, '42501', 'permission denied', 'cannot delete messages');
select pg_temp.assert_fails_with($$truncate messages$$, '42501', 'permission denied', 'cannot truncate messages');
-- The review's attack: move your messages into someone else's conversation.
select pg_temp.act_as('t-carol');
select pg_temp.assert_fails_with($$update messages set conversation_id = mqchat_conversation_id('t-alice_t-bob')$$,
                                 '42501', 'permission denied', 'cannot move messages into another conversation');

-- Conversations: read only (get_or_create_conversation creates them).
select pg_temp.assert_fails_with($$update conversations set updated_at = '2099-01-01'$$, '42501', 'permission denied',
                                 'cannot pin a conversation on top');
select pg_temp.assert_fails_with($$update conversations set created_at = '2000-01-01'$$, '42501', 'permission denied',
                                 'cannot backdate a conversation');
select pg_temp.assert_fails_with(
  $$insert into conversations (id, room, participant_1, participant_2)
    values (gen_random_uuid(), '', pg_temp.user_id('t-carol'), pg_temp.user_id('t-alice'))$$, '42501',
  'permission denied', 'cannot insert conversations directly');
select pg_temp.assert_fails_with($$delete from conversations$$, '42501', 'permission denied', 'cannot delete conversations');

-- Receipts: only through mark_message_read (which checks and tells the sender).
select pg_temp.assert_fails_with(
  $$insert into message_read_status (message_id, user_id) select carol_to_bob, pg_temp.user_id('t-carol') from ids$$,
  '42501', 'permission denied', 'cannot mark own message read directly');
select pg_temp.assert_fails_with(
  $$insert into message_read_status (message_id, user_id) select carol_to_bob, pg_temp.user_id('t-bob') from ids$$,
  '42501', 'permission denied', 'cannot forge a receipt for someone else');
select pg_temp.assert_fails_with($$update message_read_status set read_at = now()$$, '42501', 'permission denied',
                                 'cannot change receipts');
select pg_temp.assert_fails_with($$delete from message_read_status$$, '42501', 'permission denied',
                                 'cannot delete receipts');

-- The bridge's and the shipper's functions take the acting user as a parameter: not for the app role.
select pg_temp.assert_fails_with(call, '42501', 'permission denied for function', 'cannot call ' || call)
  from (values ($$select mqchat_ingest('[]')$$),
               ($$select mqchat_change_message('t-alice_t-bob', 't-alice', uuidv7(), 'x')$$),
               ($$select mqchat_mark_read('t-alice_t-bob', 't-bob', uuidv7(), null)$$),
               ($$select mqchat_history('t-alice_t-bob', 't-alice', null, null, 50)$$),
               ($$select mqchat_summaries(array['t-alice'])$$),
               ($$select mqchat_read_core(mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), uuidv7(), null)$$),
               ($$select mqchat_change_core(mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), uuidv7(), 'x')$$),
               ($$select mqchat_outbox_add('t-alice_t-bob', 'events', null, '{}')$$),
               ($$select * from mqchat_outbox_pending(10)$$),
               ($$select mqchat_token_mac(pg_temp.user_id('t-alice'), 9999999999, 'x')$$),
               ($$select mqchat_token_user('x')$$),
               ($$select mqchat_change_as_caller(uuidv7(), 'x')$$)) c(call);
-- And exactly the API is executable by the app role (a new function must be granted on purpose).
select pg_temp.assert_eq(
  (select array_agg(p.proname::text order by p.proname::text) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and has_function_privilege('mqchat_app', p.oid, 'execute')
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')),
  array['add_group_members', 'add_reaction', 'archive_conversation', 'create_group', 'delete_message', 'edit_message',
        'get_archived_conversations', 'get_conversation_by_username', 'get_group', 'get_or_create_conversation',
        'get_user_conversations', 'leave_group', 'mark_message_read', 'mqchat_conversation_id', 'mqchat_current_user_id',
        'mqchat_in_group', 'mqchat_search_keys', 'mqchat_search_tag' /* the search index's expression (051) */,
        'mqchat_sign_in', 'mqchat_ts', 'mqchat_whoami', 'mute_conversation', 'remove_group_member',
        'remove_reaction', 'rename_group', 'reply_to_message', 'search_messages', 'send_group_message', 'send_message',
        'set_group_role', 'transfer_group_ownership', 'uuidv7'],
  'the app role executes exactly the API');

-- Nothing above changed anything (checked as the owner).
reset role;
select pg_temp.assert_eq((select count(*) from messages where content in ('intrusion', 'spoofed', 'forged', 'rewritten')),
                         0::bigint, 'no forged message stored');
select pg_temp.assert_eq((select count(*) from messages where conversation_id = mqchat_conversation_id('t-alice_t-bob')),
                         1::bigint, 'nothing moved into alice and bob''s conversation');
select pg_temp.assert_eq((select count(*) from message_read_status), 0::bigint, 'no receipt forged');
select pg_temp.assert((select bool_and(updated_at < '2099-01-01') from conversations), 'no conversation pinned');
select pg_temp.assert_eq(
  (select origin || '|' || (sender_id = pg_temp.user_id('t-carol'))::text from messages where content = 'direct insert'),
  'sql|true', 'the direct insert is a message sent through SQL');
select pg_temp.assert_eq((select count(*) from mqchat_outbox o join messages m on m.id = o.message_id
                           where m.content = 'direct insert'), 1::bigint, 'and is queued for MQTT like send_message');

-- Receipts are visible to the reader and the sender only.
set local role mqchat_app;
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq((select count(*) from messages), 3::bigint, 'bob sees both his conversations');
select pg_temp.assert(mark_message_read((select carol_to_bob from ids)), 'bob marks read');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where with_user = 't-carol'), 1::bigint,
                         'the direct insert is still unread');
select pg_temp.act_as('t-carol');
select pg_temp.assert_eq((select count(*) from message_read_status), 1::bigint, 'sender sees the receipt');
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq((select count(*) from message_read_status), 0::bigint, 'others do not');
select pg_temp.assert_fails_with($$select mark_message_read((select carol_to_bob from ids))$$, '42501',
                                 'in your conversations', 'alice cannot mark a message of another conversation');

-- Deleted messages are erased: nobody, participant or not, reads their content.
select pg_temp.assert_eq(delete_message((select for_bob from alice_ids))->>'content', null, 'alice deletes hers');
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq((select content from messages where id = (select for_bob from alice_ids)), null,
                         'bob cannot read deleted content');
reset role;
select pg_temp.assert_eq((select content || '' from messages where id = (select for_bob from alice_ids)), null,
                         'erased in the table itself');
