-- Archive and mute (issue 17), per user per conversation (rows per member: nothing assumes two).
-- An archived conversation leaves the user's summary list (users/<me>/conversations and
-- get_user_conversations) and is listed on request instead; a message newer than the archiving
-- brings it back, unless the conversation is muted too. Computed when read, from the conversation's
-- last message (a pointer, 021): the ingest writes nothing more. Muted conversations will send no
-- notifications; summary entries say "muted": true. History and summaries also show reactions with
-- "mine" from here on (031), for the user who reads them.

create table if not exists conversation_settings (
  conversation_id uuid not null references conversations (id) on delete cascade,
  user_id         uuid not null references profiles (id) on delete cascade,
  archived        boolean not null default false,
  archived_last   uuid,   -- the conversation's last message when archived: a newer one brings it back
  muted           boolean not null default false,
  updated_at      timestamptz not null default now(),
  primary key (user_id, conversation_id)
);

-- Is the conversation hidden from the summary list (archived, and nothing new since or muted)?
create or replace function mqchat_is_archived(s conversation_settings, last_message uuid) returns boolean
language sql immutable as $$
  select coalesce(s.archived, false)
     and (s.muted or last_message is null or (s.archived_last is not null and last_message <= s.archived_last))
$$;

-- Sets (non-null arguments) what `p_user` chose for `conv`; returns {"archived","muted"} as they now
-- stand ("archived": whether it is out of the list). The user's summary is published again.
create or replace function mqchat_settings_core(conv uuid, p_user uuid, p_archived boolean, p_muted boolean)
returns jsonb
language plpgsql as $$
declare
  c conversations;
  s conversation_settings;
begin
  select * into c from conversations where id = conv;
  insert into conversation_settings as cs (conversation_id, user_id, archived, archived_last, muted)
  values (conv, p_user, coalesce(p_archived, false), case when p_archived then c.last_message_id end,
          coalesce(p_muted, false))
  on conflict (user_id, conversation_id) do update
     -- A conversation a new message brought back stays back when only muting changes.
     set archived = coalesce(p_archived, mqchat_is_archived(cs, c.last_message_id)),
         archived_last = case when p_archived then c.last_message_id
                              when p_archived is null then cs.archived_last end,
         muted = coalesce(p_muted, cs.muted), updated_at = now()
  returning * into s;
  perform pg_notify('mqchat_rooms', c.room);
  return jsonb_build_object('room', c.room, 'archived', mqchat_is_archived(s, c.last_message_id), 'muted', s.muted);
end;
$$;

-- The bridge's entry point (chat/<room>/archive, chat/<room>/mute): {"status":"not_found"} when the
-- conversation does not exist yet or is not the user's.
create or replace function mqchat_set_conversation(p_room text, p_user text, p_archived boolean, p_muted boolean)
returns jsonb
language plpgsql as $$
declare
  c conversations := mqchat_room_for(p_room, p_user);
begin
  if c.id is null then return jsonb_build_object('status', 'not_found'); end if;
  return jsonb_build_object('status', 'ok') || mqchat_settings_core(c.id, mqchat_profile_id(p_user), p_archived, p_muted);
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- Summary entries of user `u`: the listed ones (p_archived false) or the archived ones (true). Same
-- form as 021's mqchat_summaries, plus "muted": true and the last message's reactions when any.
create or replace function mqchat_summary_entries(u uuid, p_archived boolean) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
                      'room', c.room, 'with', other.username, 'last_message', last.j,
                      'unread_count', case when c.participant_1 = u then c.unread_1 else c.unread_2 end,
                      'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                    || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end
                    order by greatest(c.updated_at, last.created_at) desc, last.id desc nulls last), '[]'::jsonb)
    from conversations c
    join profiles other
      on other.id = case when c.participant_1 = u then c.participant_2 else c.participant_1 end
    left join conversation_settings s on s.user_id = u and s.conversation_id = c.id
    left join lateral (
      select mqchat_message_view_json(m, c.room, p.username, u) as j, m.created_at, m.id
        from messages m join profiles p on p.id = m.sender_id
       where m.id = c.last_message_id) last on true
   where u in (c.participant_1, c.participant_2)
     and coalesce(mqchat_is_archived(s, c.last_message_id), false) = p_archived
$$;

create or replace function mqchat_summaries(p_users text[])
returns table (username text, summary jsonb)
language sql stable as $$
  select u.username, mqchat_summary_entries(u.id, false) from profiles u where u.username = any(p_users)
$$;

-- users/<me>/requests/archived: the archived conversations of `p_user`, summary form.
create or replace function mqchat_archived(p_user text) returns jsonb
language sql stable as $$
  select mqchat_summary_entries(mqchat_profile_id(p_user), true)
$$;

-- History pages (010) with reactions as the requester sees them.
create or replace function mqchat_history(p_room text, p_requester text, p_before uuid, p_after uuid, p_limit int)
returns jsonb
language plpgsql stable as $$
declare
  c conversations := mqchat_room_for(p_room, p_requester);
  viewer uuid;
  page jsonb;
  more boolean;
begin
  if c.id is null then
    return jsonb_build_object('messages', '[]'::jsonb, 'has_more', false);
  end if;
  viewer := mqchat_profile_id(p_requester);
  with page_rows as (
    select m.* from messages m
     where m.conversation_id = c.id
       and (p_before is null or m.id < p_before) and (p_after is null or m.id > p_after)
     order by (case when p_after is null then m.id end) desc, (case when p_after is not null then m.id end)
     limit p_limit)
  select coalesce(jsonb_agg(mqchat_history_view_json(r, c.room, p.username,
                              case when r.sender_id = c.participant_1 then c.participant_2 else c.participant_1 end,
                              viewer)
                            order by r.id), '[]'::jsonb)
    into page
    from page_rows r join profiles p on p.id = r.sender_id;
  if page = '[]'::jsonb then
    more := false;
  elsif p_after is null then
    more := exists (select 1 from messages m where m.conversation_id = c.id and m.id < (page->0->>'id')::uuid);
  else
    more := exists (select 1 from messages m where m.conversation_id = c.id and m.id > (page->-1->>'id')::uuid
                      and (p_before is null or m.id < p_before));
  end if;
  return jsonb_build_object('messages', page, 'has_more', more);
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- The SQL API.
create or replace function get_user_conversations()
returns table (conversation_id uuid, room text, with_user text, last_message jsonb, unread_count bigint,
               updated_at timestamptz)
language plpgsql stable security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  me uuid := mqchat_current_user_id();
begin
  return query
  select c.id, c.room, other.username, last_message.j,
         (case when c.participant_1 = me then c.unread_1 else c.unread_2 end)::bigint,
         greatest(c.updated_at, last_message.created_at)
    from conversations c
    join profiles other
      on other.id = case when c.participant_1 = me then c.participant_2 else c.participant_1 end
    left join conversation_settings s on s.user_id = me and s.conversation_id = c.id
    left join lateral (
      select mqchat_message_view_json(m, c.room, p.username, me) as j, m.created_at, m.id
        from messages m join profiles p on p.id = m.sender_id
       where m.id = c.last_message_id) last_message on true
   where me in (c.participant_1, c.participant_2)
     and not coalesce(mqchat_is_archived(s, c.last_message_id), false)
   order by greatest(c.updated_at, last_message.created_at) desc, last_message.id desc nulls last, c.id;
end;
$$;

-- The conversation with a user (011) with reactions as the caller sees them.
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
        from (select mqchat_history_view_json(m, c.room, p.username,
                       case when m.sender_id = c.participant_1 then c.participant_2 else c.participant_1 end, me) as j,
                     m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.conversation_id = cid
               order by m.id desc
               limit 50) last_50), '[]'::jsonb));
end;
$$;

-- The caller's archived conversations, in the form of get_user_conversations' rows as one JSON array
-- (the summary form, as users/<me>/archived carries it).
create or replace function get_archived_conversations() returns jsonb
language sql stable security definer set search_path = public, pg_temp as $$
  select mqchat_summary_entries(mqchat_current_user_id(), true)
$$;

-- The caller's conversation `p_room`, or 42501 (DETAIL not_found).
create or replace function mqchat_my_conversation(p_room text, me uuid) returns conversations
language plpgsql stable as $$
declare
  c conversations;
begin
  select * into c from conversations where room = p_room and me in (participant_1, participant_2);
  if c.id is null then
    raise exception 'no conversation % of yours', p_room using errcode = '42501', detail = 'not_found';
  end if;
  return c;
end;
$$;

-- archive_conversation(room[, false]) / mute_conversation(room[, false]): {"room","archived","muted"}.
create or replace function archive_conversation(room text, archived boolean default true) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_settings_core((mqchat_my_conversation(room, mqchat_current_user_id())).id, mqchat_current_user_id(),
                              coalesce(archived, true), null)
$$;

create or replace function mute_conversation(room text, muted boolean default true) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_settings_core((mqchat_my_conversation(room, mqchat_current_user_id())).id, mqchat_current_user_id(),
                              null, coalesce(muted, true))
$$;

-- The app role reads its own settings only; writes go through the functions.
alter table conversation_settings enable row level security;
revoke all on conversation_settings from mqchat_app;
grant select on conversation_settings to mqchat_app;
drop policy if exists own_settings on conversation_settings;
create policy own_settings on conversation_settings for select to mqchat_app
  using (user_id = (select mqchat_current_user_id()));

revoke all on function mqchat_is_archived(conversation_settings, uuid),
  mqchat_settings_core(uuid, uuid, boolean, boolean), mqchat_set_conversation(text, text, boolean, boolean),
  mqchat_summary_entries(uuid, boolean), mqchat_archived(text), mqchat_my_conversation(text, uuid),
  get_archived_conversations(), archive_conversation(text, boolean), mute_conversation(text, boolean)
  from public, mqchat_app;
grant execute on function get_archived_conversations(), archive_conversation(text, boolean),
  mute_conversation(text, boolean) to mqchat_app;
