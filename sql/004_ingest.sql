-- How the broker plugin's shipper writes spooled messages, and how it hears about new users.

-- Spooled messages Postgres refused on their content (should never happen: the plugin validates
-- with the same rules). Kept, not lost, for a person to look at.
create table if not exists ingest_rejects (
  id          bigserial primary key,
  record      text not null,
  error       text not null,
  rejected_at timestamptz not null default now()
);

-- One call per batch: `batch` is a JSON array of stored messages as the plugin made them
-- ({"id","conversation_id","room","sender","content","type","metadata","client_id","created_at"}).
-- Idempotent by message id, so replaying a batch after a crash changes nothing. Creates each
-- conversation on its first message. Tells listeners which rooms changed (channel mqchat_rooms,
-- sent on commit; Postgres folds identical payloads within a transaction).
create or replace function mqchat_ingest(batch jsonb) returns integer
language plpgsql as $$
declare
  inserted integer;
begin
  insert into conversations (id, room, participant_1, participant_2)
  select distinct r.conversation_id, r.room, p1.id, p2.id
    from jsonb_to_recordset(batch) as r(conversation_id uuid, room text)
    join profiles p1 on p1.username = split_part(r.room, '_', 1)
    join profiles p2 on p2.username = split_part(r.room, '_', 2)
   where not exists (select 1 from conversations c where c.id = r.conversation_id)
  on conflict do nothing;

  -- A sender with no profile leaves sender_id null: the NOT NULL constraint then refuses the row
  -- and the shipper sets it aside in ingest_rejects instead of dropping it silently.
  insert into messages (id, conversation_id, sender_id, content, message_type, metadata, client_id,
                        created_at, origin)
  select r.id, r.conversation_id, p.id, r.content, r.type, coalesce(r.metadata, '{}'::jsonb), r.client_id,
         r.created_at, 'mqtt'
    from jsonb_to_recordset(batch) as r(id uuid, conversation_id uuid, sender text, content text, type text,
                                        metadata jsonb, client_id text, created_at timestamptz)
    left join profiles p on p.username = r.sender
  on conflict (id) do nothing;
  get diagnostics inserted = row_count;

  -- One update per conversation per batch (not per message) keeps "most recent first" cheap.
  update conversations c set updated_at = b.last_at
    from (select r.conversation_id, max(r.created_at) as last_at
            from jsonb_to_recordset(batch) as r(conversation_id uuid, created_at timestamptz)
           group by r.conversation_id) b
   where c.id = b.conversation_id and c.updated_at < b.last_at;

  perform pg_notify('mqchat_rooms', room)
     from (select distinct r.room from jsonb_to_recordset(batch) as r(room text)) rooms;
  return inserted;
end;
$$;

-- The plugin keeps every profile in memory and reloads when told (channel mqchat_profiles).
create or replace function mqchat_notify_profiles() returns trigger
language plpgsql as $$
begin
  perform pg_notify('mqchat_profiles', '');
  return null;
end;
$$;

drop trigger if exists profiles_changed on profiles;
create trigger profiles_changed
  after insert or update or delete or truncate on profiles
  for each statement execute function mqchat_notify_profiles();
