-- History for `bench/run history-growth` in a THROWAWAY mqchat database: each load-generator pair's
-- conversation (:prefix-s<i> with :prefix-r<i>, i < :pairs) gets :size older messages, and the
-- receiver of pair 0 gets :convs - 1 further conversations with two unread messages each, so the
-- load runs against a deep history and a long conversation list.
-- psql -v prefix=bench -v pairs=N -v size=S -v convs=C -f bench/growth_data.sql
\set ON_ERROR_STOP on
set client_min_messages = warning;
set synchronous_commit = off;
set maintenance_work_mem = '512MB';

truncate messages cascade;
delete from conversations where room like :'prefix' || '-x%';
delete from profiles where username like :'prefix' || '-x%';

-- Ids are UUIDv7 from timestamps over the 30 days before now, all below the load's own ids.
create temporary table growth_rooms as
select c.id, c.participant_1, c.participant_2, (row_number() over (order by c.room) - 1)::int as idx
  from conversations c join profiles s on s.id in (c.participant_1, c.participant_2)
 where s.username ~ ('^' || :'prefix' || '-s[0-9]+$')
   and substring(s.username from '[0-9]+$')::int < :pairs;

insert into messages (id, conversation_id, sender_id, content, created_at, origin)
select (lpad(to_hex(g.ms), 12, '0') || '7' || lpad(to_hex(g.n % 4096), 3, '0') || '8' ||
        lpad(to_hex(r.idx::bigint * 100000000000 + g.n), 15, '0'))::uuid,
       r.id,
       case when g.n % 2 = 0 then r.participant_1 else r.participant_2 end,
       'growth message ' || g.n,
       to_timestamp(g.ms / 1000.0),
       'mqtt'
  from growth_rooms r,
       lateral (select n, (extract(epoch from now() - interval '30 days') * 1000)::bigint
                          + n * (30::bigint * 86400000 / greatest(:size, 1)) as ms
                  from generate_series(1, :size) n) g;

-- The long conversation list: :prefix-x<j> each wrote twice to the receiver of pair 0.
insert into profiles (username)
select :'prefix' || '-x' || j from generate_series(1, :convs - 1) j;
insert into conversations (participant_1, participant_2)
select x.id, r.id from profiles x, profiles r
 where x.username like :'prefix' || '-x%' and r.username = :'prefix' || '-r0';
insert into messages (id, conversation_id, sender_id, content, created_at, origin)
select (lpad(to_hex((extract(epoch from now() - interval '40 days') * 1000)::bigint + j * 2 + k), 12, '0') ||
        '7000' || '8' || lpad(to_hex(j * 2 + k), 15, '0'))::uuid,
       c.id, x.id, 'hello ' || k, now() - interval '40 days', 'mqtt'
  from generate_series(1, :convs - 1) j, generate_series(0, 1) k,
       profiles x, conversations c
 where x.username = :'prefix' || '-x' || j and x.id in (c.participant_1, c.participant_2);
vacuum analyze;
