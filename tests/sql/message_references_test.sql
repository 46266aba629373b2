-- 062: a message's conversation and sender, checked per statement by triggers instead of per row
-- by foreign keys, keep every rule the foreign keys kept: no message without its conversation or
-- sender (23503 under the old constraint names, for every way a message is written or moved),
-- cascades on delete, no id change under messages, TRUNCATE ... CASCADE.
insert into profiles (username, password_hash) values ('t-dave', crypt('pw', gen_salt('bf', 4)));
create temp table rooms (room text);
grant select, insert on rooms to mqchat_app;
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'one');
select pg_temp.act_as('t-bob');
select send_message('t-alice', 'two');
insert into rooms select create_group('refs', array['t-alice', 't-carol'])->>'room';
select send_group_message((select room from rooms), 'hi group');
reset role;
create temp table ids as
  select mqchat_conversation_id('t-alice_t-bob') as ab, pg_temp.user_id('t-alice') as alice,
         pg_temp.user_id('t-bob') as bob, pg_temp.user_id('t-dave') as dave,
         gen_random_uuid() as nowhere;
select pg_temp.assert_eq((select count(*) from messages where conversation_id = (select ab from ids)), 2::bigint,
                         'SQL sends are stored');
select pg_temp.assert((select count(*) = 0 from pg_constraint where conrelid = 'messages'::regclass and contype = 'f'
                          and conname in ('messages_conversation_id_fkey', 'messages_sender_id_fkey')),
                      'the two row-by-row foreign keys are gone');

-- Written by the owner (no RLS in the way): a missing conversation or sender is refused.
select pg_temp.assert_fails_with($$insert into messages (conversation_id, sender_id, content)
  select nowhere, alice, 'x' from ids$$, '23503', 'messages_conversation_id_fkey', 'no such conversation');
select pg_temp.assert_fails_with($$insert into messages (conversation_id, sender_id, content)
  select ab, nowhere, 'x' from ids$$, '23503', 'messages_sender_id_fkey', 'no such sender');
-- One bad row among many fails the statement: nothing of it is stored.
select pg_temp.assert_fails_with($$insert into messages (conversation_id, sender_id, content)
  select ab, case when g = 7 then nowhere else alice end, 'many ' || g from ids, generate_series(1, 20) g$$,
  '23503', 'messages_sender_id_fkey', 'one bad sender in twenty');
select pg_temp.assert_eq((select count(*) from messages where content like 'many %'), 0::bigint, 'none of the twenty');
-- The error names the key, as the foreign key's did.
do $$
begin
  insert into messages (conversation_id, sender_id, content) select nowhere, alice, 'x' from ids;
  raise exception 'assertion failed: no error';
exception when foreign_key_violation then
  declare d text; c text; t text;
  begin
    get stacked diagnostics d = pg_exception_detail, c = constraint_name, t = table_name;
    perform pg_temp.assert(d = format('Key (conversation_id)=(%s) is not present in table "conversations".',
                                      (select nowhere from ids)), 'the detail names the key: ' || d);
    perform pg_temp.assert_eq(c, 'messages_conversation_id_fkey', 'the constraint name');
    perform pg_temp.assert_eq(t, 'messages', 'the table name');
  end;
end $$;

-- The shipper's COPY merge: a batch with an unknown sender fails with 23503 (the shipper then sets
-- the row aside in ingest_rejects); the good batch after it is stored.
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows;
insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id, created_at)
  select uuidv7(), ab, case when g = 3 then nowhere else bob end, 'staged ' || g, 'text', '{}', 'refs-' || g, now()
    from ids, generate_series(1, 5) g;
select pg_temp.assert_fails_with('select mqchat_ingest_staged()', '23503', 'messages_sender_id_fkey',
                                 'a staged row with an unknown sender');
delete from pg_temp.mqchat_ingest_stage where sender_id = (select nowhere from ids);
select pg_temp.assert_eq(mqchat_ingest_staged(), 4, 'the rest of the batch is stored');

-- Moving a message checks its new conversation and sender; other updates are not checked again.
select pg_temp.assert_fails_with($$update messages set conversation_id = (select nowhere from ids)
  where content = 'one'$$, '23503', 'messages_conversation_id_fkey', 'moved to no conversation');
select pg_temp.assert_fails_with($$update messages set sender_id = (select nowhere from ids)
  where content = 'one'$$, '23503', 'messages_sender_id_fkey', 'given to no sender');
update messages set content = 'one, edited' where content = 'one';
select pg_temp.assert_eq((select count(*) from messages where content = 'one, edited'), 1::bigint, 'an edit is fine');

-- A conversation's or a profile's id does not change under its messages.
select pg_temp.assert_fails_with($$update conversations set participant_2 = (select dave from ids)
  where id = (select ab from ids)$$, '23503', 'messages_conversation_id_fkey', 'a conversation re-keyed under messages');
-- (dave is in no conversation: only the message the owner wrote for him refers to him)
insert into messages (conversation_id, sender_id, content, origin) select ab, dave, 'from dave', 'mqtt' from ids;
select pg_temp.assert_fails_with($$update profiles set id = gen_random_uuid() where username = 't-dave'$$,
  '23503', 'messages_sender_id_fkey', 'a sender re-keyed under messages');
delete from messages where content = 'from dave';
update profiles set id = gen_random_uuid() where username = 't-dave';
update ids set dave = pg_temp.user_id('t-dave');

-- Deleting a conversation deletes its messages (and their receipts); deleting a profile deletes
-- what it sent, in its one-to-one conversations and in groups.
insert into message_read_status (message_id, user_id)
  select id, (select alice from ids) from messages where conversation_id = (select ab from ids) and sender_id = (select bob from ids);
delete from conversations where id = (select ab from ids);
select pg_temp.assert_eq((select count(*) from messages where conversation_id = (select ab from ids)), 0::bigint,
                         'a deleted conversation''s messages are gone');
select pg_temp.assert_eq((select count(*) from message_read_status r where not exists (select 1 from messages m where m.id = r.message_id)),
                         0::bigint, 'and their receipts');
select pg_temp.assert((select count(*) > 0 from messages where sender_id = (select bob from ids)), 'bob''s group message is there');
delete from profiles where username = 't-bob';
select pg_temp.assert_eq((select count(*) from messages where sender_id = (select bob from ids)), 0::bigint,
                         'a deleted profile''s messages are gone');

-- TRUNCATE ... CASCADE of conversations still empties messages, alone or with messages named too.
insert into conversations (participant_1, participant_2) select alice, dave from ids;
insert into messages (conversation_id, sender_id, content) select mqchat_conversation_id('t-alice_t-dave'), alice, 'again' from ids;
truncate conversations cascade;
select pg_temp.assert_eq((select count(*) from messages), 0::bigint, 'truncate conversations cascade empties messages');
insert into conversations (participant_1, participant_2) select alice, dave from ids;
insert into messages (conversation_id, sender_id, content) select mqchat_conversation_id('t-alice_t-dave'), dave, 'again' from ids;
truncate conversations, messages cascade;
select pg_temp.assert_eq((select count(*) from messages), 0::bigint, 'and with messages named too');
