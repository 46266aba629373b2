-- What one message costs Postgres to insert, the way the shipper inserts it: 500 batches of 100
-- rows staged in pg_temp.mqchat_ingest_stage (as the shipper's COPY leaves them), each batch
-- merged by :stmt and committed; the backend's CPU (user + system ticks from /proc) per row.
-- It writes 50,000 rows for good: run it on a scratch database with migrations applied and the
-- benchmark's users (psql -v n=8 -v prefix=bench -v pw=x -f bench/users.sql), as a superuser:
--   psql "$DSN" -v label=as-is -v stmt='select mqchat_ingest_staged()' -f bench/insert_cost.sql
--   psql "$DSN" -v label=stage -v stmt='select 1' -f bench/insert_cost.sql   # staging alone: subtract it
-- Optional: -v bs=ROWS per batch (100), -v nb=BATCHES (500). bench/insert_instructions.sh runs it
-- under callgrind for instruction counts, which repeat where CPU time does not.
-- Compare layouts by changing the table between runs (disable a trigger, drop an index): the
-- figures in docs/PERFORMANCE-LOG.md ("Where Postgres' time goes") are 2-3 runs each, with
-- synchronous_commit off for the database (waiting for the WAL flush is not the backend's CPU).
\set ON_ERROR_STOP on
\if :{?bs} \else \set bs 100 \endif
\if :{?nb} \else \set nb 500 \endif
select pg_backend_pid() as pid \gset
create temp table if not exists conv_pick as
  select row_number() over () as i, id, participant_1 from conversations where kind is distinct from 'group';
create temporary table if not exists mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows;
-- The benchmark's content: two words repeated, two numbers new in every message.
create or replace procedure pg_temp.batches(n int, stmt text, bs int) language plpgsql as $$
begin
  for b in 1..n loop
    insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id, created_at)
    select uuidv7(), c.id, c.participant_1,
           'bench ' || (g % 8) || ' ' || (b * 1000 + g) || ' ' || (1796057542000000 + g * 137),
           'text', '{}', 'x' || txid_current() || '-' || g, now()
      from generate_series(1, bs) g join conv_pick c on c.i = 1 + g % (select count(*) from conv_pick);
    execute stmt;
    commit;
  end loop;
end $$;
select (regexp_split_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[14:15]::bigint[] as t0 \gset
call pg_temp.batches(:nb, :'stmt', :bs);
select (regexp_split_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[14:15]::bigint[] as t1 \gset
select :'label' as variant,
       round((((:'t1'::bigint[])[1] + (:'t1'::bigint[])[2] - (:'t0'::bigint[])[1] - (:'t0'::bigint[])[2])
              * 1e6 / 100 / (:nb * :bs))::numeric, 1) as backend_cpu_us_per_row;
