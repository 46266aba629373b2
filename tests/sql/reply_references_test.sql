-- 065: a reply's target, checked per statement by triggers instead of per row by 030's foreign key,
-- keeps every rule the key kept: a reply answers a message of its own conversation (23503 under the
-- key's name, with its words, for every way a message is written or moved), deleting a target nulls
-- the replies to it, a target's key does not change under its replies, TRUNCATE. And (conversation_id,
-- id) is a plain index now.
insert into conversations (participant_1, participant_2)
  select pg_temp.user_id('t-alice'), pg_temp.user_id('t-bob') union all
  select pg_temp.user_id('t-bob'), pg_temp.user_id('t-carol');
create temp table ids as
  select mqchat_conversation_id('t-alice_t-bob') as ab, mqchat_conversation_id('t-bob_t-carol') as bc,
         pg_temp.user_id('t-alice') as alice, pg_temp.user_id('t-bob') as bob, pg_temp.user_id('t-carol') as carol,
         uuidv7() as a1, uuidv7() as a2, uuidv7() as c1, gen_random_uuid() as nowhere, gen_random_uuid() as nowhere2;
grant select on ids to mqchat_app;
-- (origin 'mqtt': nothing queued in the outbox, whose own key would refuse a re-keying first)
insert into messages (id, conversation_id, sender_id, content, origin)
  select a1, ab, alice, 'a1', 'mqtt' from ids union all
  select a2, ab, alice, 'a2', 'mqtt' from ids union all
  select c1, bc, carol, 'c1', 'mqtt' from ids;

-- Everything an error carries: SQLSTATE, schema, table, constraint, message and detail.
create function pg_temp.error_of(statement text) returns text language plpgsql as $$
declare
  s text; sc text; t text; c text; m text; d text;
begin
  execute statement;
  return 'no error';
exception when others then
  get stacked diagnostics s = returned_sqlstate, sc = schema_name, t = table_name, c = constraint_name,
                          m = message_text, d = pg_exception_detail;
  return concat_ws(' | ', s, sc, t, c, m, d);
end $$;
create function pg_temp.not_present(conv uuid, target uuid) returns text language sql as $$
  select '23503 | public | messages | messages_reply_same_conversation | insert or update on table "messages" violates '
         'foreign key constraint "messages_reply_same_conversation" | '
         || format('Key (conversation_id, reply_to)=(%s, %s) is not present in table "messages".', conv, target)
$$;

-- The schema: no foreign key, no unique constraint on (conversation_id, id), a plain index there.
select pg_temp.assert((select count(*) = 0 from pg_constraint where conrelid = 'messages'::regclass
                          and conname in ('messages_reply_same_conversation', 'messages_conversation_message')),
                      'the reply key and the unique constraint are gone');
select pg_temp.assert_eq(pg_get_indexdef('messages_conversation_id'::regclass),
                         'CREATE INDEX messages_conversation_id ON public.messages USING btree (conversation_id, id)',
                         'keyset paging keeps its index on (conversation_id, id)');
select pg_temp.assert_eq((select indisunique from pg_index where indexrelid = 'messages_conversation_id'::regclass), false,
                         'not unique');

-- Written by the owner: a reply into another conversation, or to no message, is refused with what
-- the key said.
select pg_temp.assert_eq(pg_temp.error_of($$insert into messages (conversation_id, sender_id, content, reply_to)
  select ab, bob, 'forged', c1 from ids$$), (select pg_temp.not_present(ab, c1) from ids),
  'a reply into another conversation');
select pg_temp.assert_eq(pg_temp.error_of($$insert into messages (conversation_id, sender_id, content, reply_to)
  select ab, bob, 'forged', nowhere from ids$$), (select pg_temp.not_present(ab, nowhere) from ids),
  'a reply to no message');
-- One bad reply among many fails the statement, nothing of it stored; the first bad row is named.
select pg_temp.assert_eq(pg_temp.error_of($$insert into messages (conversation_id, sender_id, content, reply_to)
  select ab, bob, 'many ' || g, case g when 7 then nowhere when 12 then nowhere2 when 3 then null else a1 end
    from ids, generate_series(1, 20) g$$), (select pg_temp.not_present(ab, nowhere) from ids),
  'two bad replies in twenty: the first is named');
select pg_temp.assert_eq((select count(*) from messages where content like 'many %'), 0::bigint, 'none of the twenty');
select pg_temp.assert_fails_with($$insert into messages (conversation_id, sender_id, content, reply_to)
  select ab, bob, 'many ' || g, case when g = 20 then c1 else a1 end from ids, generate_series(1, 20) g$$,
  '23503', 'messages_reply_same_conversation', 'the last of twenty answers another conversation');
-- Good replies: many to one target, to targets inserted by the same statement (earlier, as the
-- ingest allows, and later, as the key allowed: it checked at the end of the statement).
insert into messages (conversation_id, sender_id, content, origin, reply_to)
  select ab, bob, 'fan ' || g, 'mqtt', case when g % 2 = 0 then a1 else a2 end from ids, generate_series(1, 10) g;
select pg_temp.assert_eq((select count(*) from messages where content like 'fan %' and reply_to is not null), 10::bigint,
                         'ten replies to two targets');
create temp table same as select uuidv7() as s1, uuidv7() as s2;
insert into messages (id, conversation_id, sender_id, content, origin, reply_to)
  select s1, ab, alice, 'same first', 'mqtt', null::uuid from ids, same union all
  select s2, ab, bob, 'answers same first', 'mqtt', s1 from ids, same;
select pg_temp.assert_eq((select reply_to from messages where id = (select s2 from same)), (select s1 from same),
                         'a reply to an earlier message of the same statement');
do $$
declare
  later uuid := uuidv7();
begin
  insert into messages (id, conversation_id, sender_id, content, origin, reply_to)
  select gen_random_uuid(), ab, bob, 'answers the next row', 'mqtt', later from ids union all
  select later, ab, alice, 'the next row', 'mqtt', null from ids;
  perform pg_temp.assert_eq((select reply_to from messages where content = 'answers the next row'), later,
                            'a reply to a later message of the same statement');
end $$;

-- The shipper's COPY merge: what it keeps passes the check (a reply to an earlier row of the batch,
-- to a stored message); a forged target is dropped before, not refused.
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows;
create temp table batch as select uuidv7() as b1, uuidv7() as b2, uuidv7() as b3, uuidv7() as b4;
insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id,
                                         created_at, reply_to)
  select b1, ab, alice, 'batch first', 'text', '{}'::jsonb, null::text, now(), null::uuid from ids, batch union all
  select b2, ab, bob, 'batch answer', 'text', '{}', null, now(), b1 from ids, batch union all
  select b3, ab, bob, 'batch stored', 'text', '{}', null, now(), a2 from ids, batch union all
  select b4, ab, bob, 'batch forged', 'text', '{}', 'c-4', now(), c1 from ids, batch;
select pg_temp.assert_eq(mqchat_ingest_staged(), 4, 'the merge stores the batch');
select pg_temp.assert_eq((select array_agg(reply_to::text order by id) from messages where id in (select b2 from batch
                            union all select b3 from batch union all select b4 from batch)),
                         (select array[b1::text, a2::text, null] from batch, ids), 'the merge''s replies');

-- COPY into messages (literal ids: COPY takes no expressions). A reply to an earlier row of the
-- same COPY is fine; one into another conversation fails the COPY.
insert into profiles (id, username, password_hash) values
  ('00000000-0000-4000-8000-00000000c0a0', 't-copy-a', 'x'), ('00000000-0000-4000-8000-00000000c0b0', 't-copy-b', 'x'),
  ('00000000-0000-4000-8000-00000000c0c0', 't-copy-c', 'x');
insert into conversations (participant_1, participant_2) values
  ('00000000-0000-4000-8000-00000000c0a0', '00000000-0000-4000-8000-00000000c0b0'),
  ('00000000-0000-4000-8000-00000000c0a0', '00000000-0000-4000-8000-00000000c0c0');
select pg_temp.assert_eq(array[mqchat_conversation_id('t-copy-a_t-copy-b'), mqchat_conversation_id('t-copy-a_t-copy-c')],
                         array['9c676af3-f792-53fb-a2ff-c6b4d9e25e37', 'f3ee8069-6a0e-5818-8a2e-64ab4263bc49']::uuid[],
                         'the conversation ids the COPY data names');
copy messages (id, conversation_id, sender_id, content, origin, reply_to) from stdin with (format csv);
01900000-0000-7000-8000-000000000001,9c676af3-f792-53fb-a2ff-c6b4d9e25e37,00000000-0000-4000-8000-00000000c0a0,copy first,mqtt,
01900000-0000-7000-8000-000000000002,9c676af3-f792-53fb-a2ff-c6b4d9e25e37,00000000-0000-4000-8000-00000000c0b0,copy answer,mqtt,01900000-0000-7000-8000-000000000001
01900000-0000-7000-8000-000000000003,f3ee8069-6a0e-5818-8a2e-64ab4263bc49,00000000-0000-4000-8000-00000000c0a0,copy elsewhere,mqtt,
\.
select pg_temp.assert_eq((select reply_to from messages where content = 'copy answer'),
                         '01900000-0000-7000-8000-000000000001'::uuid, 'COPY: a reply to an earlier row');
-- (psql 15 keeps no error variables for COPY: its failure shows in the aborted transaction, its
-- message in this file's output.)
savepoint bad_copy;
\set ON_ERROR_STOP 0
copy messages (id, conversation_id, sender_id, content, origin, reply_to) from stdin with (format csv);
01900000-0000-7000-8000-000000000004,9c676af3-f792-53fb-a2ff-c6b4d9e25e37,00000000-0000-4000-8000-00000000c0b0,copy good,mqtt,01900000-0000-7000-8000-000000000001
01900000-0000-7000-8000-000000000005,9c676af3-f792-53fb-a2ff-c6b4d9e25e37,00000000-0000-4000-8000-00000000c0b0,copy forged,mqtt,01900000-0000-7000-8000-000000000003
\.
select 'is the transaction aborted?';
\set after_bad_copy :SQLSTATE
\set ON_ERROR_STOP 1
rollback to savepoint bad_copy;
select pg_temp.assert_eq(:'after_bad_copy'::text, '25P02', 'COPY: a reply into another conversation fails the COPY');
copy messages (id, conversation_id, sender_id, content, origin, reply_to) from stdin with (format csv);
01900000-0000-7000-8000-000000000004,9c676af3-f792-53fb-a2ff-c6b4d9e25e37,00000000-0000-4000-8000-00000000c0b0,copy good,mqtt,01900000-0000-7000-8000-000000000001
\.
select pg_temp.assert_eq((select count(*) from messages where content in ('copy good', 'copy forged')), 1::bigint,
                         'COPY: the same without the forged row passes');

-- Updates: a new target, or a reply moved into another conversation, is checked; other edits of a
-- reply are not checked again.
create temp table r as select id from messages where content = 'fan 2';
select pg_temp.assert_eq(pg_temp.error_of($$update messages set reply_to = (select c1 from ids) where id = (select id from r)$$),
                         (select pg_temp.not_present(ab, c1) from ids), 'a new target in another conversation');
select pg_temp.assert_eq(pg_temp.error_of($$update messages set conversation_id = (select bc from ids)
                                             where id = (select id from r)$$),
                         (select pg_temp.not_present(bc, a1) from ids), 'a reply moved away from its target');
update messages set reply_to = (select a2 from ids) where id = (select id from r);
update messages set content = 'fan 2, edited' where id = (select id from r);
select pg_temp.assert_eq((select reply_to from messages where content = 'fan 2, edited'), (select a2 from ids),
                         'a valid new target, then an edit');
update messages set reply_to = null where id = (select id from r);
select pg_temp.assert_eq((select reply_to from messages where content = 'fan 2, edited'), null, 'no target at all');

-- A target's key does not change under its replies (NO ACTION); without replies it may.
select pg_temp.assert_eq(pg_temp.error_of($$update messages set id = gen_random_uuid() where id = (select a1 from ids)$$),
  (select format('23503 | public | messages | messages_reply_same_conversation | update or delete on table "messages" '
                 'violates foreign key constraint "messages_reply_same_conversation" on table "messages" | '
                 'Key (conversation_id, id)=(%s, %s) is still referenced from table "messages".', ab, a1) from ids),
  'a target re-keyed under its replies');
select pg_temp.assert_fails_with($$update messages set conversation_id = (select bc from ids) where id = (select a1 from ids)$$,
  '23503', 'messages_reply_same_conversation', 'a target moved away from its replies');
update messages set id = gen_random_uuid() where content = 'c1';
select pg_temp.assert((select count(*) = 0 from messages where id = (select c1 from ids)), 'c1, not answered, re-keyed');
update ids set c1 = (select id from messages where content = 'c1');
-- Moving a target with all its replies (one statement) leaves every reply with its target, as the
-- key allowed.
create temp table moved as
  select m.id from messages m, same where m.id in (s1, s2);
update messages set conversation_id = (select bc from ids) where id in (select id from moved);
select pg_temp.assert_eq((select count(*) from messages m join messages t on t.id = m.reply_to
                           where m.id in (select id from moved) and t.conversation_id = m.conversation_id), 1::bigint,
                         'a target moved with its reply');
update messages set conversation_id = (select ab from ids) where id in (select id from moved);

-- Deleting targets nulls the replies to them, and only those: the fan replies to a1 lose their
-- target, those to a2 keep theirs; a statement deleting a target and a reply to it is fine.
select pg_temp.assert_eq((select count(*) from messages where content like 'fan %' and reply_to = (select a1 from ids)),
                         4::bigint, 'four replies to a1');
delete from messages where id = (select a1 from ids);
select pg_temp.assert_eq((select count(*) from messages where content like 'fan %' and reply_to is null), 5::bigint,
                         'the four replies to a1 (and the one without a target) have none');
select pg_temp.assert_eq((select count(*) from messages where content like 'fan %' and reply_to = (select a2 from ids)),
                         5::bigint, 'the replies to a2 keep it');
select pg_temp.assert_eq((select reply_to from messages where id = (select b2 from batch)), (select b1 from batch),
                         'other replies keep theirs');
delete from messages where id in (select s1 from same union all select s2 from same);
select pg_temp.assert_eq((select count(*) from messages where id in (select s1 from same union all select s2 from same)),
                         0::bigint, 'a target and its reply deleted together');
-- A deleted conversation with replies in it: its messages go, replies included.
select pg_temp.assert((select count(*) > 0 from messages where conversation_id = (select ab from ids) and reply_to is not null),
                      'there are replies in alice and bob''s conversation');
delete from conversations where id = (select ab from ids);
select pg_temp.assert_eq((select count(*) from messages where conversation_id = (select ab from ids)), 0::bigint,
                         'a deleted conversation''s messages and replies are gone');

-- The app role, under row-level security: a bad reply through a direct insert is refused with
-- 23503 and the values it wrote; reply_to_message and a good direct reply work.
insert into conversations (participant_1, participant_2)
  select bob, '00000000-0000-4000-8000-00000000c0a0'::uuid from ids;
insert into messages (conversation_id, sender_id, content, origin)
  select mqchat_conversation_id('t-bob_t-copy-a'), bob, 'bob to copy-a', 'mqtt' from ids;
set local role mqchat_app;
select pg_temp.act_as('t-bob');
select pg_temp.assert_eq(pg_temp.error_of($$insert into messages (conversation_id, sender_id, content, reply_to)
  select bc, bob, 'forged', (select id from messages where content = 'bob to copy-a') from ids$$),
  (select pg_temp.not_present(bc, (select id from messages where content = 'bob to copy-a')) from ids),
  'the app role: a reply into another of its conversations');
select pg_temp.assert_eq(pg_temp.error_of($$insert into messages (conversation_id, sender_id, content, reply_to)
  select bc, bob, 'forged', nowhere from ids$$), (select pg_temp.not_present(bc, nowhere) from ids),
  'the app role: a reply to no message');
insert into messages (conversation_id, sender_id, content, reply_to) select bc, bob, 'a direct reply', c1 from ids;
select pg_temp.assert_eq((select reply_to_message(c1, 'an API reply')->'reply_to'->>'id' from ids), (select c1::text from ids),
                         'reply_to_message');
select pg_temp.assert_fails_with($$select reply_to_message((select id from messages where content = 'copy first'), 'x')$$,
                                 '42501', 'in your conversations', 'a message of a conversation bob is not in: not found');
reset role;
select pg_temp.assert_eq((select count(*) from messages where reply_to = (select c1 from ids)), 2::bigint,
                         'both replies stored');

-- TRUNCATE still empties messages (the replies with them).
truncate messages cascade;
select pg_temp.assert_eq((select count(*) from messages), 0::bigint, 'truncate messages');
