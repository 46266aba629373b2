#!/usr/bin/env bash
# Counts (issue 14) in one Postgres backend, CPU time from /proc/self/stat (not wall time, so a busy box
# skews it less): summary calls, COPY-merge batches, up_to reads, for one conversation of SIZE messages
# and a receiver in CONVS conversations. Run against a THROWAWAY database migrated with sql/ (it empties
# messages, conversations and profiles); the connecting role must be a superuser (pg_read_file).
#   bench/counters_micro.sh 'host=/path/to/socket user=mqchat dbname=scratch' SIZE CONVS
set -euo pipefail
dsn=$1 size=$2 convs=$3
P() { psql "$dsn" -X -q -v ON_ERROR_STOP=1 "$@"; }
P >/dev/null <<SQL
set client_min_messages = warning;
truncate messages cascade;
delete from conversations; delete from profiles;
insert into profiles (username) values ('bench-s0'), ('bench-r0');
insert into profiles (username) select 'bench-x' || j from generate_series(1, $convs - 1) j;
insert into conversations (id, room, participant_1, participant_2)
select gen_random_uuid(), '', s.id, r.id from profiles s, profiles r where s.username = 'bench-s0' and r.username = 'bench-r0';
insert into conversations (id, room, participant_1, participant_2)
select gen_random_uuid(), '', x.id, r.id from profiles x, profiles r where x.username like 'bench-x%' and r.username = 'bench-r0';
insert into messages (id, conversation_id, sender_id, content, created_at, origin)
select (lpad(to_hex((extract(epoch from now() - interval '30 days') * 1000)::bigint + g.n), 12, '0') || '7000' || '8' || lpad(to_hex(g.n), 15, '0'))::uuid,
       c.id, case when g.n % 2 = 0 then c.participant_1 else c.participant_2 end, 'growth ' || g.n, now() - interval '30 days', 'mqtt'
  from conversations c, generate_series(1, $size) g(n) where c.room = 'bench-r0_bench-s0';
insert into messages (id, conversation_id, sender_id, content, created_at, origin)
select (lpad(to_hex((extract(epoch from now() - interval '40 days') * 1000)::bigint + j * 2 + k), 12, '0') || '7000' || '8' || lpad(to_hex(j * 2 + k + 100000000), 15, '0'))::uuid,
       c.id, x.id, 'hello ' || k, now() - interval '40 days', 'mqtt'
  from generate_series(1, $convs - 1) j, generate_series(0, 1) k, profiles x, conversations c
 where x.username = 'bench-x' || j and x.id in (c.participant_1, c.participant_2);
vacuum analyze;
SQL
echo -n "size=$size convs=$convs: "
P 2>&1 <<'SQL' | sed 's/.*NOTICE: *//'
-- CPU of this backend (ms), from /proc/self/stat (utime + stime, 100 Hz ticks)
create or replace function pg_temp.cpu_ms() returns numeric language sql volatile as $$
  select ((f[12])::numeric + (f[13])::numeric) * 10
    from (select string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') f) s
$$;
create temporary table if not exists mqchat_ingest_stage (like mqchat_ingest_stage_shape);
do $$
declare
  conv uuid := (select id from conversations where room = 'bench-r0_bench-s0');
  s0 uuid := (select id from profiles where username = 'bench-s0');
  r0 uuid := (select id from profiles where username = 'bench-r0');
  t0 numeric; t1 numeric; t2 numeric; t3 numeric; t4 numeric;
  upto uuid;
begin
  t0 := pg_temp.cpu_ms();
  for i in 1..20 loop perform mqchat_summaries(array['bench-r0']); end loop;
  t1 := pg_temp.cpu_ms();
  for i in 1..300 loop
    insert into mqchat_ingest_stage select uuidv7(), conv, case when g % 2 = 0 then s0 else r0 end, 'load ' || g,
           'text', '{}', null, clock_timestamp() from generate_series(1, 100) g;
    perform mqchat_ingest_staged();
    delete from mqchat_ingest_stage;
    commit;
  end loop;
  t2 := pg_temp.cpu_ms();
  upto := (select id from messages where conversation_id = conv and sender_id = s0 order by id desc limit 1);
  perform mqchat_mark_read('bench-r0_bench-s0', 'bench-r0', null, upto);   -- marks everything once
  t3 := pg_temp.cpu_ms();
  for i in 1..20 loop perform mqchat_mark_read('bench-r0_bench-s0', 'bench-r0', null, upto); end loop;
  t4 := pg_temp.cpu_ms();
  raise notice 'summary % ms/call | ingest % us/msg | first up_to % ms | repeat up_to % ms', round((t1 - t0) / 20, 2),
    round((t2 - t1) * 1000 / 30000, 1), t3 - t2, round((t4 - t3) / 20, 2);
end $$;
SQL
