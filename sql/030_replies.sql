-- Replies (issue 17): a message may name the message it answers, in the SAME conversation. The
-- database enforces it for every writer (a composite foreign key), so a reply can never point into a
-- conversation its sender does not see. History and live messages carry a short quote of the target
-- ("reply_to": {"id","sender","content","truncated","type","deleted"}), rendered when served, so an
-- edited target shows its new text and a deleted one says so (content null, "deleted": true).
--
-- Over MQTT the plugin spools a reply with "reply_to": "<id>" and delivers it to nobody itself: the
-- quote needs the database. The ingest stores it and queues it in the outbox, so the leading bridge
-- publishes it on chat/<room>/messages with the quote (a few ms after the plugin's acknowledgement).
-- A target that is not a message of the conversation does not lose the message: it is stored and
-- delivered without the reply, and its sender gets code bad_reply_to on users/<me>/errors.

-- Keyset paging used (conversation_id, id) already; as a unique constraint it also serves the key.
alter table messages drop constraint if exists messages_conversation_message;
alter table messages add constraint messages_conversation_message unique (conversation_id, id);
drop index if exists messages_conversation_id;

alter table messages add column if not exists reply_to uuid;
alter table messages drop constraint if exists messages_reply_same_conversation;
alter table messages add constraint messages_reply_same_conversation
  foreign key (conversation_id, reply_to) references messages (conversation_id, id) on delete set null (reply_to);
alter table messages drop constraint if exists messages_reply_not_self;
alter table messages add constraint messages_reply_not_self check (reply_to <> id);
create index if not exists messages_reply_to on messages (reply_to) where reply_to is not null;

-- How many characters of the target a quote carries.
create or replace function mqchat_quote_chars() returns int language sql immutable as $$ select 100 $$;

-- The quote of message `p_id` (null when it no longer exists).
create or replace function mqchat_quote_json(p_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object(
           'id', t.id, 'sender', p.username,
           'content', case when t.deleted_at is null then left(t.content, mqchat_quote_chars()) end,
           'truncated', t.deleted_at is null and char_length(t.content) > mqchat_quote_chars(),
           'type', t.message_type, 'deleted', t.deleted_at is not null)
    from messages t join profiles p on p.id = t.sender_id
   where t.id = p_id
$$;

-- The live form (002) plus the quote of a reply; messages that answer nothing keep their old keys,
-- the same as the plugin writes them.
create or replace function mqchat_message_json(m messages, room text, sender text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', m.id, 'conversation_id', m.conversation_id, 'room', room, 'sender', sender,
    'content', case when m.deleted_at is null then m.content end,
    'type', m.message_type, 'metadata', m.metadata, 'client_id', m.client_id,
    'created_at', mqchat_ts(m.created_at))
    || case when m.reply_to is null then '{}'::jsonb
            else jsonb_build_object('reply_to', coalesce(mqchat_quote_json(m.reply_to), jsonb_build_object('id', m.reply_to)))
       end
$$;

-- ------------------------------------------------------------------------------------------------
-- The outbox (011) also carries reports for a user (channel 'errors' → users/<username>/errors).
alter table mqchat_outbox add column if not exists username text;
alter table mqchat_outbox drop constraint if exists mqchat_outbox_channel_check;
alter table mqchat_outbox add constraint mqchat_outbox_channel_check
  check (channel in ('messages', 'events', 'errors'));
alter table mqchat_outbox drop constraint if exists mqchat_outbox_errors_user;
alter table mqchat_outbox add constraint mqchat_outbox_errors_user check ((channel = 'errors') = (username is not null));

create or replace function mqchat_outbox_pending(p_limit int)
returns table (seq bigint, topic text, payload text)
language sql stable as $$
  select o.seq,
         case when o.channel = 'errors' then 'users/' || o.username || '/errors'
              else 'chat/' || o.room || '/' || o.channel end,
         coalesce(o.payload, (select mqchat_message_json(m, o.room, p.username)
                                from messages m join profiles p on p.id = m.sender_id
                               where m.id = o.message_id))::text
    from mqchat_outbox o
   order by o.seq
   limit p_limit
$$;

-- A reply that came through the plugin is now stored: publish it (with its quote) through the
-- outbox; if its target was refused, tell the sender the way the plugin reports ({"topic",
-- "client_id","code","reason"}). Replayed batches publish again (at-least-once, like the outbox).
create or replace function mqchat_reply_ingested(p_id uuid, p_wanted uuid) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  m messages;
  room text;
  sender text;
begin
  select * into m from messages where id = p_id;
  if m.id is null then return; end if;
  select c.room into room from conversations c where c.id = m.conversation_id;
  perform mqchat_outbox_add(room, 'messages', m.id, null);
  if m.reply_to is distinct from p_wanted then
    select username into sender from profiles where id = m.sender_id;
    insert into mqchat_outbox (room, channel, username, payload)
    values (room, 'errors', sender, jsonb_build_object(
      'topic', 'chat/' || room || '/messages', 'client_id', m.client_id, 'code', 'bad_reply_to',
      'reason', 'reply_to ' || p_wanted || ' is not a message of ' || room ||
                '; message ' || m.id || ' was stored without it'));
  end if;
end;
$$;

-- Can `p_target` be the reply target of a message in `p_conv`? (Stored there already.)
create or replace function mqchat_reply_target_ok(p_conv uuid, p_target uuid) returns boolean
language sql stable as $$
  select exists (select 1 from messages t where t.id = p_target and t.conversation_id = p_conv)
$$;

-- The shipper's staging table gets the target; the COPY merge validates it (an earlier message of
-- the same conversation, stored or in this batch) instead of letting the key refuse the batch.
alter table mqchat_ingest_stage_shape add column if not exists reply_to uuid;

create or replace function mqchat_ingest_staged() returns integer
language plpgsql as $$
declare
  inserted integer;
begin
  insert into messages (id, conversation_id, sender_id, content, message_type, metadata, client_id,
                        created_at, origin, reply_to)
  select s.id, s.conversation_id, s.sender_id, s.content, s.message_type, s.metadata, s.client_id, s.created_at,
         'mqtt',
         case when s.reply_to is not null
                   and (mqchat_reply_target_ok(s.conversation_id, s.reply_to)
                        or exists (select 1 from pg_temp.mqchat_ingest_stage t
                                    where t.id = s.reply_to and t.conversation_id = s.conversation_id and t.id < s.id))
              then s.reply_to end
    from pg_temp.mqchat_ingest_stage s
  on conflict (id) do nothing;
  get diagnostics inserted = row_count;

  perform mqchat_reply_ingested(s.id, s.reply_to) from pg_temp.mqchat_ingest_stage s where s.reply_to is not null;

  perform pg_notify('mqchat_rooms', c.room)
     from conversations c
    where c.id in (select distinct conversation_id from pg_temp.mqchat_ingest_stage);
  return inserted;
end;
$$;

-- The JSON path (011's version) with the same reply handling.
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
  with b as (
    select * from jsonb_to_recordset(batch) as r(id uuid, conversation_id uuid, sender text, content text, type text,
                                                 metadata jsonb, client_id text, created_at timestamptz, reply_to uuid))
  insert into messages (id, conversation_id, sender_id, content, message_type, metadata, client_id,
                        created_at, origin, reply_to)
  select b.id, b.conversation_id, p.id, b.content, b.type, coalesce(b.metadata, '{}'::jsonb), b.client_id,
         b.created_at, 'mqtt',
         case when b.reply_to is not null
                   and (mqchat_reply_target_ok(b.conversation_id, b.reply_to)
                        or exists (select 1 from jsonb_to_recordset(batch) as t(id uuid, conversation_id uuid)
                                    where t.id = b.reply_to and t.conversation_id = b.conversation_id and t.id < b.id))
              then b.reply_to end
    from b left join profiles p on p.username = b.sender
  on conflict (id) do nothing;
  get diagnostics inserted = row_count;

  perform mqchat_reply_ingested(r.id, r.reply_to)
     from jsonb_to_recordset(batch) as r(id uuid, reply_to uuid) where r.reply_to is not null;

  perform pg_notify('mqchat_rooms', room)
     from (select distinct r.room from jsonb_to_recordset(batch) as r(room text)) rooms;
  return inserted;
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- The SQL API: answer a message. The target names the conversation (so this works for any kind of
-- conversation); it must be one of the caller's (42501, DETAIL not_found). A deleted target may be
-- answered (as over MQTT): the quote says it was deleted.
-- Returns the reply as chat/<room>/messages carries it (with the quote); the room gets it live.
create or replace function reply_to_message(message_id uuid, content text, message_type text default 'text',
                                            metadata jsonb default '{}', client_id text default null)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me uuid := mqchat_current_user_id();
  c  conversations := mqchat_conversation_of(message_id, me);
  m  messages;
begin
  insert into messages (conversation_id, sender_id, content, message_type, metadata, client_id, origin, reply_to)
  values (c.id, me, content, coalesce(message_type, 'text'), coalesce(metadata, '{}'), client_id, 'sql',
          reply_to_message.message_id)
  returning * into m;
  return mqchat_message_json(m, c.room, (select username from profiles where id = me));
end;
$$;

-- The app role may name a target in its own inserts; the foreign key keeps it in the conversation.
grant insert (reply_to) on messages to mqchat_app;

revoke all on function mqchat_quote_chars(), mqchat_quote_json(uuid), mqchat_reply_ingested(uuid, uuid),
  mqchat_reply_target_ok(uuid, uuid), reply_to_message(uuid, text, text, jsonb, text)
  from public, mqchat_app;
grant execute on function reply_to_message(uuid, text, text, jsonb, text) to mqchat_app;
