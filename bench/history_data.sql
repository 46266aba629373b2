-- Fills a THROWAWAY mqchat database with :rows messages in :convs conversations for the history
-- benchmark (bench/run history). psql -v rows=N -v convs=C -f bench/history_data.sql
-- Conversation sizes are skewed like real chat (conversation = floor(C * random()^3)): the largest
-- gets ~C^(-1/3) of all rows, the median a few dozen. Ids are UUIDv7 made from a timestamp that
-- grows with the row number (30 days of history), so (conversation_id, id) keyset paging behaves
-- as on a live table. Bulk-load shortcuts (FK triggers off, secondary indexes built after) make
-- it minutes instead of hours; the final table and indexes are the schema's own.
\set ON_ERROR_STOP on
set client_min_messages = warning;
set synchronous_commit = off;
set maintenance_work_mem = '512MB';
-- bench/search_data.sql reuses this file with its own seed and message text (:seed, and a
-- pg_temp.bench_message_text it defines first).
\if :{?seed}
\else
\set seed 0.42
\endif
select setseed(:seed);
\if :{?message_text_defined}
\else
create function pg_temp.bench_message_text(n bigint) returns text language sql as $$ select 'history message ' || n $$;
\endif

truncate messages cascade;
delete from conversations where room like 'h%\_h%';
delete from profiles where username like 'h%' and password_hash is null;

-- Enough users for :convs distinct pairs.
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

-- Bulk load: referential-integrity triggers off for this session, secondary indexes rebuilt after.
-- (conversation_id, id) is a unique constraint since sql/030 (reply targets reference it): kept.
-- The search and sender indexes, whatever the migrations made them, are dropped and built again after.
create temp table bench_rebuilt_indexes as
  select indexname, indexdef from pg_indexes
   where schemaname = 'public' and tablename = 'messages' and indexname ~ '^messages_(search|sender)';
do $$ declare i record; begin
  for i in select * from bench_rebuilt_indexes loop execute format('drop index %I', i.indexname); end loop;
end $$;
set session_replication_role = replica;

insert into messages (id, conversation_id, sender_id, content, created_at, origin)
select (lpad(to_hex(g.ms), 12, '0') || '7' || lpad(to_hex(g.n % 4096), 3, '0') || '8' ||
        lpad(to_hex(g.n), 15, '0'))::uuid,
       c.id,
       case when g.n % 2 = 0 then c.participant_1 else c.participant_2 end,
       pg_temp.bench_message_text(g.n),
       to_timestamp(g.ms / 1000.0),
       'mqtt'
  from (select n,
               (extract(epoch from now() - interval '30 days') * 1000)::bigint
                 + n * (30::bigint * 86400000 / :rows) as ms,
               least(:convs - 1, floor(:convs * power(random(), 3)))::int as idx
          from generate_series(1, :rows) n) g
  join bench_conv c on c.idx = g.idx;

set session_replication_role = origin;
do $$ declare i record; begin
  for i in select * from bench_rebuilt_indexes loop execute i.indexdef; end loop;
end $$;
-- Each conversation's newest message, as ingest keeps it (the load above bypassed its trigger).
update conversations c set last_message_id = x.id
  from (select distinct on (conversation_id) conversation_id, id from messages order by conversation_id, id desc) x
 where c.id = x.conversation_id;
vacuum analyze messages;

drop table if exists bench_conv_sizes;
create table bench_conv_sizes as
select conversation_id, count(*) as n from messages group by conversation_id;
