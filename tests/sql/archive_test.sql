-- Archive and mute (033): per user; archived conversations leave the list and come back with a new
-- message unless muted; only the caller's own conversations and settings.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'hello bob');
select send_message('t-carol', 'hello carol');

create function pg_temp.listed() returns text[] language sql as $$
  select coalesce(array_agg(room order by room), '{}') from get_user_conversations()
$$;
create function pg_temp.archived() returns text[] language sql as $$
  select coalesce(array_agg(e->>'room' order by e->>'room'), '{}') from jsonb_array_elements(get_archived_conversations()) e
$$;

select pg_temp.assert_eq(archive_conversation('t-alice_t-bob'), '{"room": "t-alice_t-bob", "archived": true, "muted": false}'::jsonb,
                         'archived');
select pg_temp.assert_eq(pg_temp.listed(), array['t-alice_t-carol'], 'out of alice''s list');
select pg_temp.assert_eq(pg_temp.archived(), array['t-alice_t-bob'], 'listed as archived');
select pg_temp.assert_eq((get_archived_conversations()->0->'last_message'->>'content'), 'hello bob', 'summary form');
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq(pg_temp.listed(), array['t-alice_t-bob'], 'bob''s list is his own business');
reset role;
select pg_temp.assert_eq(
  (select array_agg(e->>'room') from mqchat_summaries(array['t-alice']), jsonb_array_elements(summary) e),
  array['t-alice_t-carol'], 'the retained MQTT summary leaves it out too');
select pg_temp.assert_eq((select jsonb_array_length(mqchat_archived('t-alice'))), 1, 'the bridge''s archived list');
set local role mqchat_app;

-- A new message brings it back (whoever sends it).
select pg_temp.act_as('t-bob');
select send_message('t-alice', 'are you there?');
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq(pg_temp.listed(), array['t-alice_t-bob', 't-alice_t-carol'], 'back with a new message');
select pg_temp.assert_eq(pg_temp.archived(), '{}'::text[], 'no longer archived');
-- Muting what came back leaves it in the list.
select pg_temp.assert_eq(mute_conversation('t-alice_t-bob')->>'archived', 'false', 'muting does not archive again');
select pg_temp.assert_eq(pg_temp.listed(), array['t-alice_t-bob', 't-alice_t-carol'], 'still listed, muted');
reset role;
select pg_temp.assert_eq(
  (select e->>'muted' from mqchat_summaries(array['t-alice']), jsonb_array_elements(summary) e where e->>'room' = 't-alice_t-bob'),
  'true', 'summaries say muted');
select pg_temp.assert_eq(
  (select count(*) from mqchat_summaries(array['t-bob']), jsonb_array_elements(summary) e where e ? 'muted'), 0::bigint,
  'only for the one who muted');
set local role mqchat_app;

-- Archived and muted: new messages do not bring it back.
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq(archive_conversation('t-alice_t-bob')->>'archived', 'true', 'archived again');
select pg_temp.act_as('t-bob');
select send_message('t-alice', 'still there?');
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq(pg_temp.listed(), array['t-alice_t-carol'], 'muted: stays archived');
select pg_temp.assert_eq((get_archived_conversations()->0->>'unread_count')::int, 2, 'with its unread count');
-- Unmuting an archived conversation with news brings it back; unarchiving does too.
select pg_temp.assert_eq(mute_conversation('t-alice_t-bob', false), '{"room": "t-alice_t-bob", "archived": false, "muted": false}'::jsonb,
                         'unmuted: the news shows');
select archive_conversation('t-alice_t-bob');
select pg_temp.assert_eq(pg_temp.archived(), array['t-alice_t-bob'], 'archived after the news');
select pg_temp.assert_eq(archive_conversation('t-alice_t-bob', false)->>'archived', 'false', 'unarchived');
select pg_temp.assert_eq(pg_temp.listed(), array['t-alice_t-bob', 't-alice_t-carol'], 'back');

-- Attacks: someone else's conversation, a room that does not exist, direct writes, others' rows.
select pg_temp.act_as('t-carol');
select pg_temp.assert_fails_with($$select archive_conversation('t-alice_t-bob')$$, '42501', 'of yours',
                                 'cannot archive others'' conversations');
select pg_temp.assert_fails_with($$select mute_conversation('t-alice_t-bob')$$, '42501', 'of yours', 'nor mute them');
select pg_temp.assert_fails_with($$select archive_conversation('nope')$$, '42501', 'of yours', 'no such room');
select pg_temp.assert_eq((select count(*) from conversation_settings), 0::bigint, 'carol sees no one''s settings');
select pg_temp.assert_fails_with(
  $$insert into conversation_settings (conversation_id, user_id, archived) values (mqchat_conversation_id('t-alice_t-carol'),
    pg_temp.user_id('t-alice'), true)$$, '42501', 'permission denied', 'no direct insert');
select pg_temp.assert_fails_with($$update conversation_settings set muted = true$$, '42501', 'permission denied', 'no update');
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq((select count(*) from conversation_settings), 1::bigint, 'alice sees her own');

reset role;
select pg_temp.assert_eq(mqchat_set_conversation('t-alice_t-bob', 't-carol', true, null)->>'status', 'not_found',
                         'bridge: not a participant');
select pg_temp.assert_eq(mqchat_set_conversation('t-bob_t-carol', 't-bob', true, null)->>'status', 'not_found',
                         'bridge: no conversation yet');
select pg_temp.assert_eq(mqchat_set_conversation('t-alice_t-carol', 't-carol', null, true) - 'room',
                         '{"status": "ok", "archived": false, "muted": true}'::jsonb, 'bridge: mute');
set local role mqchat_app;
select pg_temp.assert_fails_with(call, '42501', 'permission denied for function', 'cannot call ' || call)
  from (values ($$select mqchat_set_conversation('t-alice_t-bob', 't-alice', true, null)$$),
               ($$select mqchat_archived('t-alice')$$),
               ($$select mqchat_summary_entries(pg_temp.user_id('t-alice'), true)$$)) c(call);
