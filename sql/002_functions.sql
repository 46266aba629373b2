-- The original system's SQL API. Each function acts as the user named by the session setting
-- mqchat.user_id (a web backend runs `set role mqchat_app; set mqchat.user_id = '<profile id>'`),
-- and runs with the caller's rights, so the row-level security of 003_rls.sql applies to it.

create or replace function mqchat_current_user_id() returns uuid
language plpgsql stable as $$
declare
  setting text := nullif(current_setting('mqchat.user_id', true), '');
begin
  if setting is null then
    raise exception 'no acting user: set mqchat.user_id to a profile id first' using errcode = '28000';
  end if;
  return setting::uuid;
end;
$$;

-- A message as live subscribers see it on chat/<room>/messages (the plugin writes the same keys).
create or replace function mqchat_message_json(m messages, room text, sender text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', m.id, 'conversation_id', m.conversation_id, 'room', room, 'sender', sender,
    'content', case when m.deleted_at is null then m.content end,
    'type', m.message_type, 'metadata', m.metadata, 'client_id', m.client_id,
    'created_at', mqchat_ts(m.created_at))
$$;

-- The same, plus edit/delete state, as history pages show it.
create or replace function mqchat_message_full_json(m messages, room text, sender text) returns jsonb
language sql stable as $$
  select mqchat_message_json(m, room, sender) || jsonb_build_object(
    'is_edited', m.is_edited, 'edited_at', mqchat_ts(m.edited_at),
    'deleted', m.deleted_at is not null, 'deleted_at', mqchat_ts(m.deleted_at))
$$;

create or replace function get_or_create_conversation(user1_id uuid, user2_id uuid) returns uuid
language plpgsql as $$
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

create or replace function mqchat_profile_id(name text) returns uuid
language plpgsql stable as $$
declare
  pid uuid;
begin
  select id into pid from profiles where username = name;
  if pid is null then
    raise exception 'no user named %', name using errcode = '23503';
  end if;
  return pid;
end;
$$;

-- Sends a message to a user (creating the conversation if needed); returns the stored message.
-- Tells the bridge (channel mqchat_sql_messages, on commit) so live subscribers receive it too.
create or replace function send_message(recipient_username text, content text, message_type text default 'text',
                                        metadata jsonb default '{}', client_id text default null)
returns jsonb
language plpgsql as $$
declare
  me   uuid := mqchat_current_user_id();
  cid  uuid := get_or_create_conversation(me, mqchat_profile_id(recipient_username));
  m    messages;
  room text;
  name text;
begin
  insert into messages (conversation_id, sender_id, content, message_type, metadata, client_id, origin)
  values (cid, me, content, coalesce(message_type, 'text'), coalesce(metadata, '{}'), client_id, 'sql')
  returning * into m;
  update conversations c set updated_at = m.created_at where c.id = cid and c.updated_at < m.created_at
  returning c.room into room;
  if room is null then
    select c.room into room from conversations c where c.id = cid;
  end if;
  select username into name from profiles where id = me;
  perform pg_notify('mqchat_sql_messages', m.id::text);
  return mqchat_message_json(m, room, name);
end;
$$;

-- The conversation with a user (created if needed) and its last 50 messages, oldest first.
create or replace function get_conversation_by_username(username text) returns jsonb
language plpgsql as $$
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
        from (select mqchat_message_full_json(m, c.room, p.username) as j, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.conversation_id = cid
               order by m.id desc
               limit 50) last_50), '[]'::jsonb));
end;
$$;

-- Every conversation of the acting user with its last message and unread count, most recent first.
create or replace function get_user_conversations()
returns table (conversation_id uuid, room text, with_user text, last_message jsonb, unread_count bigint,
               updated_at timestamptz)
language sql stable as $$
  select c.id, c.room, other.username, last_message.j, unread.n, greatest(c.updated_at, last_message.created_at)
    from conversations c
    join profiles other
      on other.id = case when c.participant_1 = mqchat_current_user_id() then c.participant_2 else c.participant_1 end
    left join lateral (
      select mqchat_message_json(m, c.room, p.username) as j, m.created_at, m.id
        from messages m join profiles p on p.id = m.sender_id
       where m.conversation_id = c.id
       order by m.id desc limit 1) last_message on true
    cross join lateral (
      select count(*) as n
        from messages m
       where m.conversation_id = c.id and m.sender_id <> mqchat_current_user_id() and m.deleted_at is null
         and not exists (select 1 from message_read_status r
                          where r.message_id = m.id and r.user_id = mqchat_current_user_id())) unread
   where mqchat_current_user_id() in (c.participant_1, c.participant_2)
   order by greatest(c.updated_at, last_message.created_at) desc, last_message.id desc nulls last, c.id
$$;

-- Marks a message addressed to the acting user as read. True when it was unread until now.
create or replace function mark_message_read(message_id uuid) returns boolean
language plpgsql as $$
declare
  me uuid := mqchat_current_user_id();
  inserted integer;
begin
  if not exists (select 1 from messages m
                   join conversations c on c.id = m.conversation_id
                  where m.id = mark_message_read.message_id and m.sender_id <> me
                    and me in (c.participant_1, c.participant_2)) then
    raise exception 'message % is not addressed to you', message_id using errcode = '42501';
  end if;
  insert into message_read_status (message_id, user_id) values (mark_message_read.message_id, me)
  on conflict do nothing;
  get diagnostics inserted = row_count;
  return inserted = 1;
end;
$$;
