-- The shipper's fast path: it COPYs a batch of plain rows (sender and conversation ids resolved by the
-- plugin from its in-memory user directory) into a per-session temporary table, then merges them
-- here in the same transaction. Idempotent by message id like mqchat_ingest, which stays for the
-- slow path (records the fast path cannot take, and rows Postgres refuses: ingest_rejects).

-- The staging table's shape; each shipper session makes its own temporary copy with
--   create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows
create table if not exists mqchat_ingest_stage_shape (
  id              uuid not null,
  conversation_id uuid not null,
  sender_id       uuid not null,
  content         text not null,
  message_type    text not null,
  metadata        jsonb not null,
  client_id       text,
  created_at      timestamptz not null
);
revoke all on mqchat_ingest_stage_shape from public;

-- The conversations a batch writes to that the shipper has not seen yet: created on their first
-- message (as mqchat_ingest does), dated no later than that message. p_rooms: room names.
create or replace function mqchat_ensure_conversations(p_rooms text[], p_first_at timestamptz[])
returns void
language sql as $$
  insert into conversations (id, room, participant_1, participant_2, created_at, updated_at)
  select mqchat_conversation_id(r.room), r.room, p1.id, p2.id, r.first_at, r.first_at
    from unnest(p_rooms, p_first_at) as r(room, first_at)
    join profiles p1 on p1.username = split_part(r.room, '_', 1)
    join profiles p2 on p2.username = split_part(r.room, '_', 2)
  on conflict do nothing
$$;

-- Merges the session's staged rows into messages; returns how many were new.
create or replace function mqchat_ingest_staged() returns integer
language plpgsql as $$
declare
  inserted integer;
begin
  insert into messages (id, conversation_id, sender_id, content, message_type, metadata, client_id,
                        created_at, origin)
  select id, conversation_id, sender_id, content, message_type, metadata, client_id, created_at, 'mqtt'
    from pg_temp.mqchat_ingest_stage
  on conflict (id) do nothing;
  get diagnostics inserted = row_count;

  update conversations c set updated_at = b.last_at
    from (select conversation_id, max(created_at) as last_at
            from pg_temp.mqchat_ingest_stage group by conversation_id) b
   where c.id = b.conversation_id and c.updated_at < b.last_at;

  perform pg_notify('mqchat_rooms', c.room)
     from conversations c
    where c.id in (select distinct conversation_id from pg_temp.mqchat_ingest_stage);
  return inserted;
end;
$$;
