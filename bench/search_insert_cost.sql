-- What the search index costs each insert: 200,000 messages of the search benchmark's kind of text
-- into random existing conversations, in one transaction that is rolled back, with the backend's
-- CPU (user + system clock ticks, 1/100 s on Linux, from /proc) before and after. Run against the database
-- `MQCHAT_BENCH_KEEP=1 bench/run search` leaves (a superuser connection, for pg_read_file):
--   psql "$DSN" -f bench/search_insert_cost.sql
-- and again after `begin; drop index messages_search_keys;` style changes to compare layouts.
\set ON_ERROR_STOP on
set synchronous_commit = off;
create temp table conv_pick as select row_number() over () as i, id, participant_1 from conversations;
select count(*) as conversations from conv_pick \gset
select pg_backend_pid() as pid \gset
begin;
select (regexp_split_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[14:15]::bigint[] as t0 \gset
insert into messages (conversation_id, sender_id, content, origin)
select c.id, c.participant_1,
  'w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
  ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
  ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
  ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int, 'mqtt'
from generate_series(1, 200000) g join conv_pick c on c.i = 1 + (g * 7919) % :conversations;
select (regexp_split_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[14:15]::bigint[] as t1 \gset
select round((((:'t1'::bigint[])[1] + (:'t1'::bigint[])[2] - (:'t0'::bigint[])[1] - (:'t0'::bigint[])[2])
              * 1e6 / 100 / 200000)::numeric, 1) as backend_cpu_us_per_insert,
       string_agg(indexname, ', ') as search_indexes
  from pg_indexes where tablename = 'messages' and indexname like 'messages_search%';
rollback;
