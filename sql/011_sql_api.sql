-- The SQL API as its users call it (issue 13): who the caller is (signed tokens), what the app role
-- may touch (row-level security + column privileges), one code path per change shared with the
-- bridge, and an outbox so that a message sent, edited, deleted or read through SQL reaches MQTT
-- clients as the same events and summary updates as over MQTT.
--
-- Roles:
--   mqchat_app      what a web backend acting for users runs as. Acts as a user only with a token
--                   from mqchat_sign_in (set mqchat.token); never writes tables except its own
--                   messages (insert), everything else through the API functions below.
--   mqchat_trusted  marker: a role that is a member may act as any user by setting mqchat.user_id
--                   (for a backend that authenticates users itself). Nothing is a member by default.
--   mqchat_backend  an example trusted role: mqchat_app's rights + mqchat_trusted.
-- The database owner (the broker plugin's shipper, the bridge, migrations) is trusted.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'mqchat_trusted') then
    create role mqchat_trusted nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'mqchat_backend') then
    create role mqchat_backend nologin;
  end if;
end;
$$;
grant mqchat_app, mqchat_trusted to mqchat_backend;

-- ------------------------------------------------------------------------------------------------
-- Secrets only the owner can read: the key that signs SQL session tokens. Rotating it (update …
-- set value = gen_random_bytes(32)) signs everyone out.
create table if not exists mqchat_secrets (
  name  text primary key,
  value bytea not null check (octet_length(value) >= 32)
);
revoke all on mqchat_secrets from public;
insert into mqchat_secrets (name, value) values ('sql_token_key', gen_random_bytes(32)) on conflict do nothing;

-- ------------------------------------------------------------------------------------------------
-- Identity.
-- A token: "mqchat1.<profile id>.<expiry, unix seconds>.<hex HMAC-SHA256>". The MAC covers the id,
-- the expiry and the profile's current password hash, so a password change revokes every token of
-- that user, and a token names nobody else.
create or replace function mqchat_token_mac(uid uuid, expires bigint, password_hash text) returns text
language sql stable security definer set search_path = public, pg_temp as $$
  select encode(hmac(convert_to('mqchat1.' || uid || '.' || expires || '.' || password_hash, 'UTF8'),
                     (select value from mqchat_secrets where name = 'sql_token_key'), 'sha256'), 'hex')
$$;

-- Signs a user in with their password; returns a token for `set mqchat.token = '…'`. Unknown
-- users cost the same bcrypt as a wrong password and get the same error.
create or replace function mqchat_sign_in(username text, password text, valid_for interval default '1 hour')
returns text
language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  p profiles;
  expires bigint;
begin
  if valid_for is null or valid_for <= interval '0' or valid_for > interval '1 day' then
    raise exception 'a token is valid for more than 0 and at most 1 day' using errcode = '22023';
  end if;
  select * into p from profiles where profiles.username = mqchat_sign_in.username;
  if p.password_hash is null or password is null
     or crypt(coalesce(password, ''), p.password_hash) is distinct from p.password_hash then
    if p.password_hash is null then   -- unknown, or cannot log in: the same cost as a wrong password
      perform crypt(coalesce(password, ''), '$2a$10$0123456789012345678901');   -- `./mqchat user add`'s cost
    end if;
    raise exception 'invalid username or password' using errcode = '28P01';
  end if;
  expires := extract(epoch from now() + valid_for)::bigint;
  return 'mqchat1.' || p.id || '.' || expires || '.' || mqchat_token_mac(p.id, expires, p.password_hash);
end;
$$;

-- The profile a token names, or an error (28000) when it is malformed, forged, expired or revoked.
create or replace function mqchat_token_user(token text) returns uuid
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  parts text[] := string_to_array(token, '.');
  uid uuid;
  expires bigint;
  hash text;
begin
  if array_length(parts, 1) is distinct from 4 or parts[1] <> 'mqchat1'
     or parts[2] !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     or parts[3] !~ '^[0-9]{1,12}$' or parts[4] !~ '^[0-9a-f]{64}$' then
    raise exception 'mqchat.token is not a token from mqchat_sign_in' using errcode = '28000';
  end if;
  uid := parts[2]::uuid;
  expires := parts[3]::bigint;
  select password_hash into hash from profiles where id = uid;
  -- Compares digests of the MACs, so the comparison's timing says nothing about the expected MAC.
  if hash is null or digest(parts[4], 'sha256') <> digest(mqchat_token_mac(uid, expires, hash), 'sha256') then
    raise exception 'mqchat.token is invalid or revoked' using errcode = '28000';
  end if;
  if expires <= extract(epoch from now()) then
    raise exception 'mqchat.token has expired: sign in again' using errcode = '28000';
  end if;
  return uid;
end;
$$;

-- Is the role this statement runs as (not a SECURITY DEFINER function's owner) trusted? Inside a
-- SECURITY DEFINER function current_user is the owner, but the `role` setting still names the role
-- the session chose with SET ROLE ('none' when it kept its login role).
create or replace function mqchat_caller_is_trusted() returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select pg_has_role(coalesce(nullif(current_setting('role'), 'none'), session_user::text), 'mqchat_trusted', 'member')
$$;

-- Who the caller acts as: the user of a valid mqchat.token; or, for trusted roles only, the
-- profile in mqchat.user_id. Anything else is refused (28000).
create or replace function mqchat_current_user_id() returns uuid
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  token   text := nullif(current_setting('mqchat.token', true), '');
  setting text := nullif(current_setting('mqchat.user_id', true), '');
  uid uuid;
begin
  if token is not null then
    return mqchat_token_user(token);
  end if;
  if setting is null then
    raise exception 'no acting user: set mqchat.token to a token from mqchat_sign_in first' using errcode = '28000';
  end if;
  if not mqchat_caller_is_trusted() then
    raise exception 'mqchat.user_id is honoured for trusted roles only: set mqchat.token (mqchat_sign_in)'
      using errcode = '28000';
  end if;
  begin
    uid := setting::uuid;
  exception when invalid_text_representation then
    raise exception 'mqchat.user_id must be a profile id' using errcode = '28000';
  end;
  if not exists (select 1 from profiles where id = uid) then
    raise exception 'mqchat.user_id names no profile' using errcode = '28000';
  end if;
  return uid;
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- Messages: deletion erases (content and metadata are gone, the row keeps its place in the
-- history); SQL-sent metadata obeys the plugin's size limit; conversations' times follow their
-- messages whoever inserts them.
alter table messages alter column content drop not null;
update messages set content = null, metadata = '{}' where deleted_at is not null and content is not null;
alter table messages drop constraint if exists messages_deleted_erased;
alter table messages add constraint messages_deleted_erased check ((deleted_at is null) = (content is not null));
alter table messages drop constraint if exists messages_sql_metadata_size;
alter table messages add constraint messages_sql_metadata_size
  check (origin <> 'sql' or octet_length(metadata::text) <= 8192) not valid;

create or replace function mqchat_conversation_times() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update conversations c
     set created_at = least(c.created_at, b.first_at), updated_at = greatest(c.updated_at, b.last_at)
    from (select conversation_id, min(created_at) as first_at, max(created_at) as last_at
            from new_messages group by conversation_id) b
   where c.id = b.conversation_id and (c.created_at > b.first_at or c.updated_at < b.last_at);
  return null;
end;
$$;
drop trigger if exists messages_conversation_times on messages;
create trigger messages_conversation_times after insert on messages
  referencing new table as new_messages for each statement execute function mqchat_conversation_times();

update conversations c set created_at = b.first_at
  from (select conversation_id, min(created_at) as first_at from messages group by conversation_id) b
 where c.id = b.conversation_id and c.created_at > b.first_at;

-- The shipper's batch insert, as in 004 minus the updated_at update (the trigger above does it).
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

  perform pg_notify('mqchat_rooms', room)
     from (select distinct r.room from jsonb_to_recordset(batch) as r(room text)) rooms;
  return inserted;
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- The outbox: what the leading bridge publishes for changes made through SQL, in order. A message
-- row is rendered when published (so an erased message is never sent with its content); events are
-- stored as published. The bridge publishes after reading, then deletes what it published: a bridge
-- that dies in between publishes it again (at-least-once; de-duplicate by id).
create table if not exists mqchat_outbox (
  seq        bigserial primary key,
  room       text not null,
  channel    text not null check (channel in ('messages', 'events')),
  message_id uuid references messages (id) on delete cascade,
  payload    jsonb,
  check ((channel = 'messages') = (message_id is not null and payload is null)),
  check (channel = 'messages' or payload is not null)
);
revoke all on mqchat_outbox from public;

-- Appends to the outbox and wakes the leader (on commit).
create or replace function mqchat_outbox_add(p_room text, p_channel text, p_message_id uuid, p_payload jsonb)
returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  insert into mqchat_outbox (room, channel, message_id, payload) values (p_room, p_channel, p_message_id, p_payload);
  perform pg_notify('mqchat_outbox', '');
  perform pg_notify('mqchat_rooms', p_room);
end;
$$;

create or replace function mqchat_queue_sql_message() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_outbox_add((select room from conversations where id = new.conversation_id), 'messages', new.id, null);
  return null;
end;
$$;

-- What sql_fanout_queue held moves to the outbox; the queue and its claim go.
do $$
begin
  if to_regclass('sql_fanout_queue') is not null then
    insert into mqchat_outbox (room, channel, message_id)
    select c.room, 'messages', m.id
      from sql_fanout_queue q join messages m on m.id = q.message_id join conversations c on c.id = m.conversation_id
     order by m.id;
    drop table sql_fanout_queue;
  end if;
end;
$$;
drop function if exists mqchat_claim_sql_messages(int);

-- The next `p_limit` publications, oldest first (read only; nothing is locked while publishing).
create or replace function mqchat_outbox_pending(p_limit int)
returns table (seq bigint, topic text, payload text)
language sql stable as $$
  select o.seq, 'chat/' || o.room || '/' || o.channel,
         coalesce(o.payload, (select mqchat_message_json(m, o.room, p.username)
                                from messages m join profiles p on p.id = m.sender_id
                               where m.id = o.message_id))::text
    from mqchat_outbox o
   order by o.seq
   limit p_limit
$$;

-- ------------------------------------------------------------------------------------------------
-- Events, as the bridge writes them (bridge/request.cpp): same keys.
create or replace function mqchat_read_event(reader text, id uuid, up_to boolean, read_at timestamptz) returns jsonb
language sql immutable as $$
  select jsonb_build_object('event', 'read', 'reader', reader,
                            case when up_to then 'up_to' else 'message_id' end, id, 'read_at', mqchat_ts(read_at))
$$;

-- ------------------------------------------------------------------------------------------------
-- One implementation of each change, used by the bridge (MQTT requests) and by the SQL API.

-- Marks as read, for `reader`, the messages of `conv` the other participant sent: exactly
-- `p_message_id`, or every one up to and including `p_up_to`. Only messages the reader received
-- and not deleted; each at most once (a repeat marks nothing). Returns
-- {"status": ok|not_found|own, "marked": n, "read_at"} (read_at as stored for what was marked).
create or replace function mqchat_read_core(conv uuid, reader uuid, p_message_id uuid, p_up_to uuid)
returns jsonb
language plpgsql as $$
declare
  target messages;
  marked integer;
begin
  select * into target from messages where id = coalesce(p_message_id, p_up_to) and conversation_id = conv;
  if target.id is null then return jsonb_build_object('status', 'not_found'); end if;
  if p_message_id is not null and target.sender_id = reader then return jsonb_build_object('status', 'own'); end if;
  with marked_rows as (
    insert into message_read_status (message_id, user_id, read_at)
    select m.id, reader, now() from messages m
     where m.conversation_id = conv and m.sender_id <> reader and m.deleted_at is null
       and (case when p_message_id is not null then m.id = p_message_id else m.id <= p_up_to end)
    on conflict do nothing
    returning message_id)
  select count(*) into marked from marked_rows;
  if marked > 0 then
    perform pg_notify('mqchat_rooms', (select room from conversations where id = conv));
  end if;
  return jsonb_build_object('status', 'ok', 'marked', marked, 'read_at', mqchat_ts(now()));
end;
$$;

-- Edits (p_content not null) or erases (p_content null) message `p_id` of `author` in `conv`.
-- Returns {"status": ok|not_found|forbidden|deleted, "message": the history form when ok}.
create or replace function mqchat_change_core(conv uuid, author uuid, p_id uuid, p_content text)
returns jsonb
language plpgsql as $$
declare
  m messages;
begin
  select * into m from messages where id = p_id and conversation_id = conv for update;
  if m.id is null then return jsonb_build_object('status', 'not_found'); end if;
  if m.sender_id <> author then return jsonb_build_object('status', 'forbidden'); end if;
  if m.deleted_at is not null then return jsonb_build_object('status', 'deleted'); end if;
  if p_content is null then
    update messages set deleted_at = now(), content = null, metadata = '{}' where id = p_id returning * into m;
  else
    update messages set content = p_content, is_edited = true, edited_at = now() where id = p_id returning * into m;
  end if;
  perform pg_notify('mqchat_rooms', (select room from conversations where id = conv));
  return jsonb_build_object('status', 'ok', 'edited_at', mqchat_ts(m.edited_at), 'deleted_at', mqchat_ts(m.deleted_at));
end;
$$;

-- The bridge's entry points (010) now go through the cores. mqchat_mark_read adds status "own" (a
-- single own message: refused) and "marked" (0: nothing new, so no new receipt).
create or replace function mqchat_mark_read(p_room text, p_reader text, p_message_id uuid, p_up_to uuid)
returns jsonb
language plpgsql as $$
declare
  c conversations := mqchat_room_for(p_room, p_reader);
begin
  if c.id is null then return jsonb_build_object('status', 'not_found'); end if;
  return mqchat_read_core(c.id, mqchat_profile_id(p_reader), p_message_id, p_up_to);
end;
$$;

create or replace function mqchat_change_message(p_room text, p_user text, p_id uuid, p_content text)
returns jsonb
language plpgsql as $$
declare
  c conversations := mqchat_room_for(p_room, p_user);
begin
  if c.id is null then return jsonb_build_object('status', 'not_found'); end if;
  return mqchat_change_core(c.id, mqchat_profile_id(p_user), p_id, p_content);
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- The SQL API. SECURITY DEFINER: each checks who the caller is and what they may do, then writes
-- what the app role cannot write directly (receipts, edits, the outbox).

create or replace function get_or_create_conversation(user1_id uuid, user2_id uuid) returns uuid
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me  uuid := mqchat_current_user_id();
  cid uuid;
begin
  if me not in (user1_id, user2_id) then
    raise exception 'you can only open conversations you take part in' using errcode = '42501';
  end if;
  if user1_id = user2_id then
    raise exception 'a conversation needs two different users' using errcode = '23514';
  end if;
  select id into cid from conversations
   where (participant_1, participant_2) in ((user1_id, user2_id), (user2_id, user1_id));
  if cid is null then
    -- The trigger orders the participants and sets room and id; a racing creator is harmless.
    insert into conversations (id, room, participant_1, participant_2)
    values (gen_random_uuid(), '', user1_id, user2_id)
    on conflict do nothing
    returning id into cid;
    if cid is null then
      select id into cid from conversations
       where (participant_1, participant_2) in ((user1_id, user2_id), (user2_id, user1_id));
    end if;
  end if;
  return cid;
end;
$$;

-- Sends a message to a user (creating the conversation if needed); returns the stored message as
-- live subscribers receive it on chat/<room>/messages (the outbox trigger publishes it there).
create or replace function send_message(recipient_username text, content text, message_type text default 'text',
                                        metadata jsonb default '{}', client_id text default null)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me   uuid := mqchat_current_user_id();
  cid  uuid := get_or_create_conversation(me, mqchat_profile_id(recipient_username));
  m    messages;
begin
  insert into messages (conversation_id, sender_id, content, message_type, metadata, client_id, origin)
  values (cid, me, content, coalesce(message_type, 'text'), coalesce(metadata, '{}'), client_id, 'sql')
  returning * into m;
  return mqchat_message_json(m, (select room from conversations where id = cid),
                             (select username from profiles where id = me));
end;
$$;

-- The conversation with a user (created if needed) and its last 50 messages, oldest first.
create or replace function get_conversation_by_username(username text) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me  uuid := mqchat_current_user_id();
  cid uuid := get_or_create_conversation(me, mqchat_profile_id(username));
  c   conversations;
begin
  select * into c from conversations where id = cid;
  return jsonb_build_object(
    'id', c.id, 'room', c.room, 'with', username,
    'created_at', mqchat_ts(c.created_at), 'updated_at', mqchat_ts(c.updated_at),
    'messages', coalesce((
      select jsonb_agg(j order by id)
        from (select mqchat_history_json(m, c.room, p.username,
                       case when m.sender_id = c.participant_1 then c.participant_2 else c.participant_1 end) as j,
                     m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.conversation_id = cid
               order by m.id desc
               limit 50) last_50), '[]'::jsonb));
end;
$$;

-- Every conversation of the acting user with its last message (the same form as the retained MQTT
-- summary: is_edited, deleted, …) and unread count, most recent first.
drop function if exists get_user_conversations();
create function get_user_conversations()
returns table (conversation_id uuid, room text, with_user text, last_message jsonb, unread_count bigint,
               updated_at timestamptz)
language plpgsql stable security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  me uuid := mqchat_current_user_id();
begin
  return query
  select c.id, c.room, other.username, last_message.j, unread.n, greatest(c.updated_at, last_message.created_at)
    from conversations c
    join profiles other
      on other.id = case when c.participant_1 = me then c.participant_2 else c.participant_1 end
    left join lateral (
      select mqchat_message_full_json(m, c.room, p.username) as j, m.created_at, m.id
        from messages m join profiles p on p.id = m.sender_id
       where m.conversation_id = c.id
       order by m.id desc limit 1) last_message on true
    cross join lateral (
      select count(*) as n
        from messages m
       where m.conversation_id = c.id and m.sender_id <> me and m.deleted_at is null
         and not exists (select 1 from message_read_status r where r.message_id = m.id and r.user_id = me)) unread
   where me in (c.participant_1, c.participant_2)
   order by greatest(c.updated_at, last_message.created_at) desc, last_message.id desc nulls last, c.id;
end;
$$;

-- The conversation of message `p_id` if the acting user `me` takes part in it; 42501 otherwise, as
-- for a message that is not yours to touch (a message of others is as invisible as a missing one;
-- DETAIL not_found tells them apart from `forbidden`).
create or replace function mqchat_conversation_of(p_id uuid, me uuid) returns conversations
language plpgsql stable as $$
declare
  c conversations;
begin
  select c2.* into c from messages m join conversations c2 on c2.id = m.conversation_id
   where m.id = p_id and me in (c2.participant_1, c2.participant_2);
  if c.id is null then
    raise exception 'no message % in your conversations', p_id using errcode = '42501', detail = 'not_found';
  end if;
  return c;
end;
$$;

-- Marks a message addressed to the acting user as read. True when it was unread until now (and
-- then the sender gets the same read event as over MQTT); false when already read or deleted.
create or replace function mark_message_read(message_id uuid) returns boolean
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me uuid := mqchat_current_user_id();
  c  conversations := mqchat_conversation_of(message_id, me);
  r  jsonb := mqchat_read_core(c.id, me, message_id, null);
begin
  if r->>'status' = 'own' then
    raise exception 'message % is your own: only its recipient marks it read', message_id
      using errcode = '42501', detail = 'forbidden';
  end if;
  if (r->>'marked')::int = 0 then return false; end if;
  perform mqchat_outbox_add(c.room, 'events',  null,
    mqchat_read_event((select username from profiles where id = me), message_id, false, now()));
  return true;
end;
$$;

-- Shared by edit_message and delete_message: raises what the MQTT path reports as an error code.
create or replace function mqchat_change_as_caller(p_id uuid, p_content text) returns jsonb
language plpgsql as $$
declare
  me uuid := mqchat_current_user_id();
  c  conversations := mqchat_conversation_of(p_id, me);
  r  jsonb := mqchat_change_core(c.id, me, p_id, p_content);
  m  messages;
begin
  case r->>'status'
    when 'forbidden' then
      raise exception 'you can only % your own messages', case when p_content is null then 'delete' else 'edit' end
        using errcode = '42501', detail = 'forbidden';
    when 'deleted' then
      raise exception 'message % was deleted', p_id using errcode = '55000', detail = 'deleted';
    else null;
  end case;
  select * into m from messages where id = p_id;
  perform mqchat_outbox_add(c.room, 'events', null,
    case when p_content is null
         then jsonb_build_object('event', 'deleted', 'id', m.id, 'deleted_at', mqchat_ts(m.deleted_at))
         else jsonb_build_object('event', 'edited', 'id', m.id, 'content', m.content, 'edited_at', mqchat_ts(m.edited_at))
    end);
  return mqchat_message_full_json(m, c.room, (select username from profiles where id = m.sender_id));
end;
$$;

-- Edits the acting user's own message (same content rules as a new one); returns it in history
-- form; everyone in the room gets {"event":"edited",…}.
create or replace function edit_message(message_id uuid, content text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_change_as_caller(message_id, coalesce(content, ''))
$$;

-- Deletes (erases) the acting user's own message; returns it in history form (content null);
-- everyone in the room gets {"event":"deleted",…}.
create or replace function delete_message(message_id uuid) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_change_as_caller(message_id, null)
$$;

-- Who am I? The acting user's profile (id, username), per the rules of mqchat_current_user_id.
create or replace function mqchat_whoami() returns table (id uuid, username text)
language sql stable security definer set search_path = public, pg_temp as $$
  select p.id, p.username from profiles p where p.id = mqchat_current_user_id()
$$;

-- ------------------------------------------------------------------------------------------------
-- Privileges. Functions are not executable by PUBLIC (the bridge's functions take the acting user
-- as a parameter); the app role gets the API and what its defaults and policies call.
do $$
declare
  f regprocedure;
begin
  for f in select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public'
              and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e') loop
    execute format('revoke all on function %s from public, mqchat_app', f);
  end loop;
end;
$$;
-- (New functions are executable by PUBLIC again by default: tests/sql/rls_test.sql fails when the app
-- role can execute anything beyond this list.)
grant execute on function
  mqchat_sign_in(text, text, interval), mqchat_current_user_id(), mqchat_whoami(),
  get_or_create_conversation(uuid, uuid), send_message(text, text, text, jsonb, text),
  get_conversation_by_username(text), get_user_conversations(), mark_message_read(uuid),
  edit_message(uuid, text), delete_message(uuid),
  uuidv7(), mqchat_ts(timestamptz), mqchat_conversation_id(text)
  to mqchat_app;

-- Tables: read under row-level security; write only your own new messages, and only the columns a
-- sender chooses (id, sender-side flags, timestamps and origin come from defaults).
revoke all on profiles, conversations, messages, message_read_status from mqchat_app;
grant select (id, username, created_at) on profiles to mqchat_app;   -- never password_hash
grant select on conversations, messages, message_read_status to mqchat_app;
grant insert (conversation_id, sender_id, content, message_type, metadata, client_id) on messages to mqchat_app;

drop policy if exists participant on conversations;
create policy participant on conversations for select to mqchat_app
  using ((select mqchat_current_user_id()) in (participant_1, participant_2));
drop policy if exists edit_own on messages;
drop policy if exists mark_addressed_to_me on message_read_status;
