-- Fills a THROWAWAY mqchat database with :rows messages in :convs conversations for the search
-- benchmark (bench/run search). psql -v rows=N -v convs=C -f bench/search_data.sql
-- Conversations as bench/history_data.sql (skewed sizes, UUIDv7 ids over 30 days); each message is
-- 8 words drawn from a 20,000-word vocabulary with a Zipf-like skew (word k is about k^-0.75 as
-- frequent as word 1: "w1" is in ~15 % of messages, "w20000" in a few hundred), plus a word of
-- Cyrillic or accented Latin in one message of 10. Bulk-load shortcuts as history_data.sql; the
-- search index is built after the load, the way CREATE INDEX builds it fastest.
\set ON_ERROR_STOP on
set client_min_messages = warning;
set synchronous_commit = off;
set maintenance_work_mem = '512MB';
select setseed(0.17);

truncate messages cascade;
delete from conversations where room like 'h%\_h%';
delete from profiles where username like 'h%' and password_hash is null;

insert into profiles (username)
select 'h' || i from generate_series(1, ceil(sqrt(2.0 * :convs))::int + 2) i;

insert into conversations (participant_1, participant_2)
select a.id, b.id
  from profiles a join profiles b on a.username < b.username
 where a.username like 'h%' and b.username like 'h%' and a.password_hash is null and b.password_hash is null
 order by a.username, b.username
 limit :convs;

drop table if exists bench_conv;
create table bench_conv as
select (row_number() over (order by id) - 1)::int as idx, id, participant_1, participant_2
  from conversations where room like 'h%\_h%';
create unique index on bench_conv (idx);

drop index if exists messages_search;
drop index if exists messages_sender;
set session_replication_role = replica;

insert into messages (id, conversation_id, sender_id, content, created_at, origin)
select (lpad(to_hex(g.ms), 12, '0') || '7' || lpad(to_hex(g.n % 4096), 3, '0') || '8' ||
        lpad(to_hex(g.n), 15, '0'))::uuid,
       c.id,
       case when g.n % 2 = 0 then c.participant_1 else c.participant_2 end,
       'w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
       ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
       ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
       ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
       case g.n % 10 when 0 then ' привет' || (g.n % 1000) when 5 then ' café' || (g.n % 1000) else '' end,
       to_timestamp(g.ms / 1000.0),
       'mqtt'
  from (select n,
               (extract(epoch from now() - interval '30 days') * 1000)::bigint
                 + n * (30::bigint * 86400000 / :rows) as ms,
               least(:convs - 1, floor(:convs * power(random(), 3)))::int as idx
          from generate_series(1, :rows) n) g
  join bench_conv c on c.idx = g.idx;

set session_replication_role = origin;
create index messages_search on messages using gin (conversation_id, search_words);
create index messages_sender on messages (sender_id);
vacuum analyze messages;
