-- Group conversations (034) through the SQL API as the app role under RLS: create, rename, add,
-- remove, leave, transfer, roles, with their errors; messages, unread counts, receipts, history,
-- summaries; what non-members and removed members cannot see or do.
insert into profiles (username, password_hash) values
  ('t-dave', crypt('pw', gen_salt('bf', 4))), ('t-erin', crypt('pw', gen_salt('bf', 4)));
create temp table g (room text);
grant select, insert, update on g to mqchat_app;

set local role mqchat_app;
select pg_temp.act_as('t-alice');
-- Creation: you and at least two others, all existing.
select pg_temp.assert_fails_with($$select create_group('two', array['t-bob'])$$, '23514', 'at least 3', 'too few');
select pg_temp.assert_fails_with($$select create_group('two', array['t-bob', 't-bob', 't-alice'])$$, '23514',
                                 'at least 3', 'duplicates and yourself do not count');
select pg_temp.assert_fails_with($$select create_group('x', array['t-bob', 'nobody'])$$, '23503', 'nobody', 'unknown user');
select pg_temp.assert_fails_with($$select create_group('   ', array['t-bob', 't-carol'])$$, '23514', 'name', 'blank name');
insert into g select create_group('  Weekend  ', array['t-bob', 't-carol'])->>'room';
select pg_temp.assert((select room ~ '^g:[0-9a-f]{16}$' from g), 'room is g:<16 hex>');
select pg_temp.assert_eq(get_group((select room from g)),
  jsonb_build_object('room', (select room from g), 'name', 'Weekend',
                     'created_at', get_group((select room from g))->'created_at',
                     'members', '[{"user":"t-alice","role":"owner"},{"user":"t-bob","role":"member"},{"user":"t-carol","role":"member"}]'::jsonb,
                     'role', 'owner'),
  'get_group: name trimmed, owner first');
select pg_temp.assert_eq((select id from conversations where room = (select room from g)),
                         mqchat_conversation_id((select room from g)), 'id is the plugin''s UUIDv5 of the room');

-- Messages: everyone else's unread goes up; read receipts count per member.
select send_group_message((select room from g), 'hello group');
select pg_temp.act_as('t-bob');
select send_group_message((select room from g), 'hi from bob');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where room = (select room from g)), 1::bigint,
                         'bob: alice''s message unread');
select pg_temp.assert_eq((select with_user from get_user_conversations() where room = (select room from g)), null::text,
                         'a group has no "with"');
select pg_temp.act_as('t-carol');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where room = (select room from g)), 2::bigint,
                         'carol: two unread');
select pg_temp.assert(mark_message_read((select id from messages where content = 'hello group')), 'carol reads alice''s');
select pg_temp.assert_eq((select unread_count from get_user_conversations() where room = (select room from g)), 1::bigint,
                         'carol: one left');
reset role;
select pg_temp.assert_eq((select payload - 'read_at' from mqchat_outbox where room = (select room from g) and payload->>'event' = 'read'),
  jsonb_build_object('event', 'read', 'reader', 't-carol', 'message_id', (select id from messages where content = 'hello group'),
                     'read_by', 1, 'of', 2),
  'the read event of a group says "read by 1 of 2"');
set local role mqchat_app;
select pg_temp.assert_eq((select count(*) from messages m join conversations c on c.id = m.conversation_id
                           where c.room = (select room from g)), 2::bigint, 'members read the group''s messages');
-- Direct inserts by a member are allowed (and published like send_group_message's).
insert into messages (conversation_id, sender_id, content)
  values (mqchat_conversation_id((select room from g)), pg_temp.user_id('t-carol'), 'carol direct');

-- Roles: a member may not administer.
select pg_temp.assert_fails_with($$select rename_group((select room from g), 'mine')$$, '42501', 'owner and admins', 'member renames');
select pg_temp.assert_fails_with($$select add_group_members((select room from g), array['t-dave'])$$, '42501',
                                 'owner and admins', 'member adds');
select pg_temp.assert_fails_with($$select remove_group_member((select room from g), 't-bob')$$, '42501',
                                 'owner and admins', 'member removes');
select pg_temp.assert_fails_with($$select transfer_group_ownership((select room from g), 't-carol')$$, '42501',
                                 'only the owner', 'member transfers');
select pg_temp.assert_fails_with($$select set_group_role((select room from g), 't-carol', 'admin')$$, '42501',
                                 'only the owner', 'member promotes itself');
select pg_temp.assert_fails_with($$update conversations set name = 'hijack' where room = (select room from g)$$,
                                 '42501', 'permission denied', 'no direct update of a group');
select pg_temp.assert_fails_with($$insert into conversation_members (conversation_id, user_id) values
                                   (mqchat_conversation_id((select room from g)), pg_temp.user_id('t-dave'))$$,
                                 '42501', 'permission denied', 'no direct membership insert');
select pg_temp.assert_fails_with($$delete from conversation_members$$, '42501', 'permission denied', 'no direct delete');

-- A non-member sees nothing of the group and can do nothing in it.
select pg_temp.act_as('t-dave');
select pg_temp.assert_eq((select count(*) from conversations where room = (select room from g)), 0::bigint, 'dave: no group row');
select pg_temp.assert_eq((select count(*) from conversation_members), 0::bigint, 'dave: no member rows');
select pg_temp.assert_eq((select count(*) from messages where content = 'hello group'), 0::bigint, 'dave: no messages');
select pg_temp.assert_fails_with($$select get_group((select room from g))$$, '42501', 'no group', 'dave: no info');
select pg_temp.assert_fails_with($$select send_group_message((select room from g), 'intrusion')$$, '42501', 'no conversation',
                                 'dave: cannot send');
select pg_temp.assert_fails_with($$insert into messages (conversation_id, sender_id, content) values
                                   (mqchat_conversation_id((select room from g)), pg_temp.user_id('t-dave'), 'intrusion')$$,
                                 '42501', 'row-level security', 'dave: cannot insert');
select pg_temp.assert_fails_with($$select add_reaction((select id from messages where content = 'hi from bob' union all
                                                         select null limit 1), '👍')$$, '42501', null, 'dave: cannot react');
select pg_temp.assert_fails_with($$select leave_group((select room from g))$$, '42501', 'no group', 'dave: cannot leave');
select pg_temp.assert_eq((search_messages('group')->'results'), '[]'::jsonb, 'dave: search finds nothing');
select pg_temp.assert_fails_with($$select archive_conversation((select room from g))$$, '42501', null, 'dave: cannot archive');
reset role;
select pg_temp.assert_eq((mqchat_history((select room from g), 't-dave', null, null, 50)->'messages'), '[]'::jsonb,
                         'the bridge''s history for a non-member is empty');
select pg_temp.assert_eq(mqchat_react((select room from g), 't-dave', (select id from messages where content = 'hi from bob'),
                                      '👍', true)->>'status', 'not_found', 'the bridge''s react for a non-member');
select pg_temp.assert_eq(mqchat_mark_read((select room from g), 't-dave', (select id from messages where content = 'hi from bob'),
                                          null)->>'status', 'not_found', 'the bridge''s read for a non-member');
set local role mqchat_app;

-- The owner adds dave (admin later), renames; limits.
select pg_temp.act_as('t-alice');
select pg_temp.assert_fails_with($$select add_group_members((select room from g), array['nobody'])$$, '23503', 'nobody',
                                 'adding an unknown user');
select add_group_members((select room from g), array['t-dave', 't-bob']);
select pg_temp.assert_eq(jsonb_array_length(get_group((select room from g))->'members'), 4, 'dave in, bob not twice');
select pg_temp.assert_eq(rename_group((select room from g), 'Long weekend')->>'name', 'Long weekend', 'renamed');
select set_group_role((select room from g), 't-dave', 'admin');
reset role;
select pg_temp.assert_eq((select unread from conversation_members where user_id = pg_temp.user_id('t-dave')), 0,
                         'a new member starts with nothing unread');
select pg_temp.assert_eq(mqchat_group_request('t-dave', 'info', (select room from g), null, null, null)->'group'->>'role',
                         'admin', 'the bridge''s entry point answers dave as admin');
set local role mqchat_app;
select pg_temp.act_as('t-dave');
select pg_temp.assert_eq((select count(*) from messages where content = 'hello group'), 1::bigint,
                         'a new member reads the history');
select pg_temp.assert_fails_with($$select remove_group_member((select room from g), 't-alice')$$, '42501', 'admins remove members only',
                                 'an admin cannot remove the owner');
select remove_group_member((select room from g), 't-carol');
select pg_temp.act_as('t-carol');
select pg_temp.assert_eq((select count(*) from messages where content = 'hello group'), 0::bigint,
                         'a removed member reads nothing');
select pg_temp.assert_eq((select count(*) from get_user_conversations() where room = (select room from g)), 0::bigint,
                         'and has no such conversation');
select pg_temp.assert_fails_with($$select send_group_message((select room from g), 'still here?')$$, '42501', null,
                                 'and cannot send');

select pg_temp.act_as('t-alice');
select pg_temp.assert_fails_with($$select leave_group((select room from g))$$, '55000', 'transfer', 'the owner cannot leave');
select pg_temp.assert_fails_with($$select transfer_group_ownership((select room from g), 't-carol')$$, '23503', 'not a member',
                                 'transfer to a non-member');
select transfer_group_ownership((select room from g), 't-bob');
select pg_temp.assert_eq(get_group((select room from g))->>'role', 'admin', 'the old owner is an admin');
select leave_group((select room from g));
select pg_temp.assert_fails_with($$select get_group((select room from g))$$, '42501', null, 'gone after leaving');
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq(get_group((select room from g))->'members',
                         '[{"user":"t-bob","role":"owner"},{"user":"t-dave","role":"admin"}]'::jsonb, 'bob owns it now');

-- The limit is a database setting.
select set_config('mqchat.group_max_members', '3', true);
select pg_temp.assert_fails_with($$select add_group_members((select room from g), array['t-alice', 't-carol'])$$, '23514',
                                 'at most 3', 'over the limit');
select pg_temp.assert_fails_with($$select create_group('big', array['t-alice', 't-carol', 't-dave'])$$, '23514', 'at most 3',
                                 'created over the limit');
select set_config('mqchat.group_max_members', '', true);

-- Pair functions do not reach groups and the other way round.
select pg_temp.assert_fails_with($$select send_group_message('t-alice_t-bob', 'x')$$, '42501', null,
                                 'send_group_message refuses a pair room');
reset role;
select pg_temp.assert_fails($$insert into conversations (id, room, kind, name) values (gen_random_uuid(), 't-alice_t-bob', 'group', 'x')$$,
                            '23514', 'a group room never looks like a pair');

-- Membership changes were published as events on the group's events topic (through the outbox),
-- and told the broker plugin (mqchat_groups; checked end to end in tests/bridge/groups_test.cpp).
select pg_temp.assert_eq(
  (select array_agg(payload->>'event' order by seq) from mqchat_outbox where room = (select room from g) and channel = 'events'
      and payload->>'event' <> 'read'),
  array['group_created', 'member_added', 'group_renamed', 'role_changed', 'member_removed', 'owner_changed', 'member_left'],
  'membership events in order');
select pg_temp.assert_eq(
  (select payload from mqchat_outbox where room = (select room from g) and payload->>'event' = 'member_removed'),
  '{"event": "member_removed", "by": "t-dave", "user": "t-carol", "members": 3}'::jsonb, 'an event''s form');

-- Summaries: the group with name, member count, role and unread.
select pg_temp.assert_eq(
  (select e - 'last_message' - 'updated_at' from mqchat_summaries(array['t-dave']), jsonb_array_elements(summary) e
    where e->>'room' = (select room from g)),
  jsonb_build_object('room', (select room from g), 'group', true, 'name', 'Long weekend', 'members', 2, 'role', 'admin',
                     'unread_count', 0),
  'dave''s summary entry');
select pg_temp.assert_eq((select count(*) from mqchat_summaries(array['t-carol']), jsonb_array_elements(summary) e
                           where e->>'room' = (select room from g)), 0::bigint, 'not in a removed member''s summary');

-- History: read_by per message and the member count.
select pg_temp.assert_eq(
  (select jsonb_agg(jsonb_build_array(m->>'content', m->'read_by') order by m->>'id')
     from jsonb_array_elements(mqchat_history((select room from g), 't-bob', null, null, 50)->'messages') m),
  '[["hello group", 1], ["hi from bob", 0], ["carol direct", 0]]'::jsonb, 'read by');
select pg_temp.assert_eq((mqchat_history((select room from g), 't-bob', null, null, 50)->>'members')::int, 2, 'members');

-- Unread counts match a recount (the random version: groups_counters_test.sql).
select pg_temp.assert(not exists (
  select 1 from conversation_members cm
   where cm.unread <> (select count(*) from messages m
                        where m.conversation_id = cm.conversation_id and m.sender_id <> cm.user_id and m.deleted_at is null
                          and (cm.joined_after is null or m.id > cm.joined_after)
                          and not exists (select 1 from message_read_status r where r.message_id = m.id and r.user_id = cm.user_id))),
  'unread counts are exact');
