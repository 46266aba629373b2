-- The original system's functions, acting as a user.
select pg_temp.assert_fails($$select send_message('t-bob', 'hi')$$, '28000', 'needs an acting user');

select pg_temp.act_as('t-alice');
select pg_temp.assert((send_message('t-bob', 'hello bob')->>'sender') = 't-alice', 'send_message returns the message');
select send_message('t-bob', 'second', 'image', '{"url": "x"}');
select pg_temp.assert_fails($$select send_message('t-bob', '   ')$$, '23514', 'blank refused');
select pg_temp.assert_fails($$select send_message('nobody', 'x')$$, '23503', 'unknown recipient');
select pg_temp.assert_fails($$select send_message('t-alice', 'x')$$, '23514', 'not to oneself');
select pg_temp.assert_fails($$select get_or_create_conversation(pg_temp.user_id('t-bob'), pg_temp.user_id('t-carol'))$$,
                            '42501', 'only own conversations');
select pg_temp.assert(
  get_or_create_conversation(pg_temp.user_id('t-alice'), pg_temp.user_id('t-bob'))
  = get_or_create_conversation(pg_temp.user_id('t-bob'), pg_temp.user_id('t-alice')), 'same conversation either way');

select pg_temp.act_as('t-bob');
select pg_temp.assert((select unread_count from get_user_conversations() where with_user = 't-alice') = 2, 'bob has 2 unread');
select pg_temp.assert(
  (select jsonb_array_length(get_conversation_by_username('t-alice')->'messages')) = 2, 'history has both');
select pg_temp.assert(
  (select get_conversation_by_username('t-alice')->'messages'->0->>'content') = 'hello bob', 'oldest first');
select pg_temp.assert(mark_message_read((select id from messages where content = 'hello bob')), 'newly read');
select pg_temp.assert(not mark_message_read((select id from messages where content = 'hello bob')), 'idempotent');
select pg_temp.assert((select unread_count from get_user_conversations() where with_user = 't-alice') = 1, 'one left');

select pg_temp.act_as('t-alice');
select pg_temp.assert_fails($$select mark_message_read((select id from messages where content = 'second'))$$, '42501',
                            'cannot mark own message read');
select pg_temp.assert((select unread_count from get_user_conversations() where with_user = 't-bob') = 0, 'alice: 0 unread');

-- 60 messages: get_conversation_by_username serves the last 50.
select send_message('t-bob', 'n' || i) from generate_series(1, 60) i;
select pg_temp.assert(
  (select jsonb_array_length(get_conversation_by_username('t-bob')->'messages')) = 50, 'last 50');
select pg_temp.assert(
  (select get_conversation_by_username('t-bob')->'messages'->49->>'content') = 'n60', 'newest last');
select send_message('t-carol', 'hi carol');
select pg_temp.assert((select with_user from get_user_conversations() limit 1) = 't-carol', 'most recent first');
