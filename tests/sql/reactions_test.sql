-- Reactions (031): members only, emoji bounds, per-user limit, counts and "mine" per viewer in
-- history and summaries, one event per change (through the outbox for the SQL API).
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'react to me');
select pg_temp.act_as('t-carol');
select send_message('t-bob', 'carol''s');
reset role;
create temp table ids as
  select (select id from messages where content = 'react to me') as msg,
         (select id from messages where content = 'carol''s') as carols;
grant select on ids to mqchat_app;
set local role mqchat_app;

select pg_temp.act_as('t-bob');
select pg_temp.assert_eq(add_reaction((select msg from ids), '👍'),
                         '[{"emoji": "👍", "count": 1, "mine": true}]'::jsonb, 'bob reacts');
select pg_temp.assert_eq(add_reaction((select msg from ids), '👍'),
                         '[{"emoji": "👍", "count": 1, "mine": true}]'::jsonb, 'again: nothing changes');
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq(add_reaction((select msg from ids), '❤️'),
                         '[{"emoji": "👍", "count": 1, "mine": false}, {"emoji": "❤️", "count": 1, "mine": true}]'::jsonb,
                         'alice adds another; mine is per viewer');
select pg_temp.assert_eq(add_reaction((select msg from ids), '👍')->0,
                         '{"emoji": "👍", "count": 2, "mine": true}'::jsonb, 'counts aggregate');
-- Emoji sequences that must pass: skin tone, ZWJ family, flag, keycap.
select add_reaction((select msg from ids), e) from unnest(array['👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣']) e;
select pg_temp.assert_eq(jsonb_array_length(remove_reaction((select msg from ids), '🇫🇷')), 5, 'five kinds left');

-- Bounds: not an emoji (text, markup, blanks, too long), and at most 8 kinds per user per message.
select pg_temp.assert_fails_with(format('select add_reaction((select msg from ids), %L)', e), '23514', 'not an emoji',
                                 'refused emoji ' || coalesce(e, 'null'))
  from unnest(array['abc', '<b>', ' ', '', 'a👍', '👍 ', repeat('👍', 17), E'\u200d', '1', null]) e;
select add_reaction((select msg from ids), e) from unnest(array['😀', '😂', '🎉']) e;  -- alice now has 8
select pg_temp.assert_fails_with($$select add_reaction((select msg from ids), '🔥')$$, '23514', 'at most 8',
                                 'a ninth kind is refused');

-- Attacks: carol is not in alice and bob's conversation; bob cannot react to carol's message as
-- someone else; nobody writes the table directly.
select pg_temp.act_as('t-carol');
select pg_temp.assert_fails_with($$select add_reaction((select msg from ids), '👎')$$, '42501', 'in your conversations',
                                 'a non-member cannot react');
select pg_temp.assert_fails_with($$select remove_reaction((select msg from ids), '👍')$$, '42501', 'in your conversations',
                                 'nor remove reactions');
select pg_temp.assert_eq((select count(*) from message_reactions), 0::bigint, 'carol sees no reactions of others');
select pg_temp.assert_fails_with(
  $$insert into message_reactions (message_id, user_id, emoji) select msg, pg_temp.user_id('t-carol'), '👎' from ids$$,
  '42501', 'permission denied', 'no direct insert');
select pg_temp.assert_fails_with($$delete from message_reactions$$, '42501', 'permission denied', 'no direct delete');
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq((select count(*) from message_reactions), 9::bigint, 'bob sees the reactions of his conversation');
select pg_temp.assert_fails_with($$update message_reactions set emoji = '👎'$$, '42501', 'permission denied', 'no update');

-- History and summaries as each user sees them.
select pg_temp.assert_eq(
  (select m->'reactions'->0 from jsonb_array_elements(get_conversation_by_username('t-alice')->'messages') m
    where m->>'content' = 'react to me') - 'mine', '{"emoji": "👍", "count": 2}'::jsonb, 'history: most used first');
select pg_temp.assert_eq(
  (select last_message->'reactions'->0->>'mine' from get_user_conversations() where with_user = 't-alice'), 'true',
  'summary: bob''s own reaction is mine');
reset role;
select pg_temp.assert_eq(
  (select e->'last_message'->'reactions'->1 from mqchat_summaries(array['t-bob']), jsonb_array_elements(summary) e
    where e->>'room' = 't-alice_t-bob'),
  '{"emoji": "❤️", "count": 1, "mine": false}'::jsonb, 'the bridge''s summary for bob: alice''s heart is not his');
select pg_temp.assert_eq(
  (select mqchat_history('t-alice_t-bob', 't-alice', null, null, 50)->'messages'->0->'reactions'->1->>'mine'),
  'true', 'the bridge''s history for alice: her heart is hers');

-- Events: one per change, in order, none for the repeat; they carry the room's counts, not "mine".
select pg_temp.assert_eq(
  (select array_agg((payload->>'action') || ' ' || (payload->>'user') order by seq) from mqchat_outbox
    where channel = 'events' and payload->>'event' = 'reaction' and payload->>'emoji' = '👍'),
  array['added t-bob', 'added t-alice'], 'one event per change');
select pg_temp.assert_eq(
  (select payload->'reactions'->0 from mqchat_outbox where payload->>'emoji' = '👍' and payload->>'user' = 't-alice'),
  '{"emoji": "👍", "count": 2}'::jsonb, 'the event has the counts');

-- The bridge's entry point: the room must be the user's, the message in that room.
select pg_temp.assert_eq(mqchat_react('t-alice_t-bob', 't-carol', (select msg from ids), '👎', true)->>'status', 'not_found',
                         'bridge: a non-participant is refused');
select pg_temp.assert_eq(mqchat_react('t-bob_t-carol', 't-bob', (select msg from ids), '👎', true)->>'status', 'not_found',
                         'bridge: a message of another room is not found');
select pg_temp.assert_eq(mqchat_react('t-alice_t-bob', 't-bob', (select msg from ids), 'x', true)->>'status', 'bad_emoji',
                         'bridge: bad emoji');
select pg_temp.assert_eq(mqchat_react('t-alice_t-bob', 't-bob', (select msg from ids), '👍', false)->'event'->>'action',
                         'removed', 'bridge: removal event');

-- Deleted messages take no new reactions; their existing ones can be removed.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select delete_message((select msg from ids));
select pg_temp.assert_fails_with($$select add_reaction((select msg from ids), '🔥')$$, '55000', 'was deleted',
                                 'no reaction to a deleted message');
select pg_temp.assert_eq(jsonb_array_length(remove_reaction((select msg from ids), '😀')), 7, 'removal still works');

-- The bridge's functions are not the app role's.
select pg_temp.assert_fails_with(call, '42501', 'permission denied for function', 'cannot call ' || call)
  from (values ($$select mqchat_react('t-alice_t-bob', 't-alice', uuidv7(), '👍', true)$$),
               ($$select mqchat_react_core(mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), uuidv7(), '👍', true)$$),
               ($$select mqchat_react_as_caller(uuidv7(), '👍', true)$$)) c(call);
