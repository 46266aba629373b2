-- Row-level security: mqchat_app acting as a user sees and touches only its own conversations.
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'for bob');
select pg_temp.act_as('t-carol');
select send_message('t-bob', 'carol to bob');

set local role mqchat_app;
select pg_temp.act_as('t-carol');
select pg_temp.assert((select count(*) from conversations) = 1, 'carol sees only her conversation');
select pg_temp.assert((select count(*) from messages) = 1, 'carol sees only her messages');
select pg_temp.assert((select count(*) from messages where content = 'for bob') = 0, 'not alice''s');
select pg_temp.assert_fails($$select password_hash from profiles$$, '42501', 'password hashes are hidden');
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content)
    values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-carol'), 'intrusion')$$, '42501',
  'cannot write into another conversation');
select pg_temp.assert_fails(
  $$insert into messages (conversation_id, sender_id, content)
    values (mqchat_conversation_id('t-bob_t-carol'), pg_temp.user_id('t-bob'), 'spoofed')$$, '42501',
  'cannot send as someone else');
select pg_temp.assert_fails(
  $$insert into message_read_status (message_id, user_id)
    select id, pg_temp.user_id('t-carol') from messages where content = 'carol to bob'$$, '42501',
  'cannot mark own message read');
update messages set content = 'hacked' where content = 'for bob';
select pg_temp.act_as('t-alice');
select pg_temp.assert((select count(*) from messages where content = 'for bob') = 1, 'other''s update touched nothing');

select pg_temp.act_as('t-bob');
select pg_temp.assert((select count(*) from messages) = 2, 'bob sees both his conversations');
select pg_temp.assert(mark_message_read((select id from messages where content = 'carol to bob')), 'bob marks read');
select pg_temp.assert((select unread_count from get_user_conversations() where with_user = 't-carol') = 0, 'read');
select pg_temp.act_as('t-carol');
select pg_temp.assert((select count(*) from message_read_status) = 1, 'sender sees the receipt');
select pg_temp.act_as('t-alice');
select pg_temp.assert((select count(*) from message_read_status) = 0, 'others do not');
reset role;
