-- What the bridge daemon (bridge/) asks of the database: history pages, read receipts, edits,
-- deletions, conversation summaries and the fan-out of messages sent through the SQL API.
-- The bridge connects as the owner and passes the authenticated requester explicitly; every
-- function checks that the requester is a participant of the room (and the owner of a message).
-- Each mutation tells listeners which room changed (channel mqchat_rooms, on commit).

-- A message as a history page shows it: full shape plus whether its recipient has read it.
create or replace function mqchat_history_json(m messages, room text, sender text, recipient uuid) returns jsonb
language sql stable as $$
  select mqchat_message_full_json(m, room, sender) || jsonb_build_object(
    'read_at', (select mqchat_ts(r.read_at) from message_read_status r
                 where r.message_id = m.id and r.user_id = recipient))
$$;

-- The conversation `p_room` if `p_user` takes part in it (null otherwise).
create or replace function mqchat_room_for(p_room text, p_user text) returns conversations
language sql stable as $$
  select c.* from conversations c
    join profiles p on p.username = p_user and p.id in (c.participant_1, c.participant_2)
   where c.room = p_room
$$;

-- One page of a room's history, oldest first. Keyset on (conversation_id, id): `before` pages back
-- from an id, `after` forward from one, neither gives the latest. Ids need not exist (they are bounds).
create or replace function mqchat_history(p_room text, p_requester text, p_before uuid, p_after uuid, p_limit int)
returns jsonb
language plpgsql stable as $$
declare
  c conversations := mqchat_room_for(p_room, p_requester);
  page jsonb;
  more boolean;
begin
  if c.id is null then
    -- No conversation yet (or not yours: the plugin already refused non-participants).
    return jsonb_build_object('messages', '[]'::jsonb, 'has_more', false);
  end if;
  -- The page nearest the anchor: newest first when paging back, oldest first when paging forward.
  with page_rows as (
    select m.* from messages m
     where m.conversation_id = c.id
       and (p_before is null or m.id < p_before) and (p_after is null or m.id > p_after)
     order by (case when p_after is null then m.id end) desc, (case when p_after is not null then m.id end)
     limit p_limit)
  select coalesce(jsonb_agg(mqchat_history_json(r, c.room, p.username,
                              case when r.sender_id = c.participant_1 then c.participant_2 else c.participant_1 end)
                            order by r.id), '[]'::jsonb)
    into page
    from page_rows r join profiles p on p.id = r.sender_id;
  -- Is there anything beyond this page, in the direction of travel?
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

-- Marks as read, for `p_reader`, the messages the other participant sent: exactly `p_message_id`,
-- or everything up to and including `p_up_to`. Idempotent. status: ok | not_found.
create or replace function mqchat_mark_read(p_room text, p_reader text, p_message_id uuid, p_up_to uuid)
returns jsonb
language plpgsql as $$
declare
  c conversations := mqchat_room_for(p_room, p_reader);
  reader uuid := mqchat_profile_id(p_reader);
  target uuid := coalesce(p_message_id, p_up_to);
  marked integer;
begin
  if c.id is null or not exists (select 1 from messages where id = target and conversation_id = c.id) then
    return jsonb_build_object('status', 'not_found');
  end if;
  insert into message_read_status (message_id, user_id)
  select m.id, reader from messages m
   where m.conversation_id = c.id and m.sender_id <> reader and m.deleted_at is null
     and (case when p_message_id is not null then m.id = p_message_id else m.id <= p_up_to end)
  on conflict do nothing;
  get diagnostics marked = row_count;
  if marked > 0 then perform pg_notify('mqchat_rooms', c.room); end if;
  return jsonb_build_object('status', 'ok', 'marked', marked, 'read_at', mqchat_ts(now()));
end;
$$;

-- Edits (p_content not null) or soft-deletes (p_content null) a message of `p_user` in `p_room`.
-- status: ok | not_found (no such message in this room) | forbidden (someone else's) | deleted.
create or replace function mqchat_change_message(p_room text, p_user text, p_id uuid, p_content text)
returns jsonb
language plpgsql as $$
declare
  c conversations := mqchat_room_for(p_room, p_user);
  m messages;
begin
  select * into m from messages where id = p_id and conversation_id = c.id for update;
  if c.id is null or m.id is null then return jsonb_build_object('status', 'not_found'); end if;
  if m.sender_id <> mqchat_profile_id(p_user) then return jsonb_build_object('status', 'forbidden'); end if;
  if m.deleted_at is not null then return jsonb_build_object('status', 'deleted'); end if;
  if p_content is null then
    update messages set deleted_at = now() where id = p_id returning * into m;
  else
    update messages set content = p_content, is_edited = true, edited_at = now() where id = p_id returning * into m;
  end if;
  perform pg_notify('mqchat_rooms', c.room);
  return jsonb_build_object('status', 'ok', 'edited_at', mqchat_ts(m.edited_at), 'deleted_at', mqchat_ts(m.deleted_at));
end;
$$;

-- The retained summary of each user in `p_users`: [{"room","with","last_message","unread_count",
-- "updated_at"}], most recent first. One set-based query for a whole batch of users.
create or replace function mqchat_summaries(p_users text[])
returns table (username text, summary jsonb)
language sql stable as $$
  select u.username,
         coalesce((select jsonb_agg(jsonb_build_object(
                             'room', c.room, 'with', other.username, 'last_message', last.j,
                             'unread_count', unread.n,
                             'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                           order by greatest(c.updated_at, last.created_at) desc, last.id desc nulls last)
                     from conversations c
                     join profiles other
                       on other.id = case when c.participant_1 = u.id then c.participant_2 else c.participant_1 end
                     left join lateral (
                       select mqchat_message_full_json(m, c.room, s.username) as j, m.created_at, m.id
                         from messages m join profiles s on s.id = m.sender_id
                        where m.conversation_id = c.id
                        order by m.id desc limit 1) last on true
                     cross join lateral (
                       select count(*) as n from messages m
                        where m.conversation_id = c.id and m.sender_id <> u.id and m.deleted_at is null
                          and not exists (select 1 from message_read_status r
                                           where r.message_id = m.id and r.user_id = u.id)) unread
                    where u.id in (c.participant_1, c.participant_2)), '[]'::jsonb)
    from profiles u
   where u.username = any(p_users)
$$;

-- Messages sent through the SQL API wait here until a bridge has published them live. A bridge
-- claims rows (SKIP LOCKED, so several bridges never publish the same one), publishes, then deletes
-- them in the same transaction: a bridge that dies before commit leaves them for the next one.
create table if not exists sql_fanout_queue (
  message_id uuid primary key references messages (id) on delete cascade
);

create or replace function mqchat_queue_sql_message() returns trigger
language plpgsql as $$
begin
  insert into sql_fanout_queue (message_id) values (new.id);
  perform pg_notify('mqchat_rooms', (select room from conversations where id = new.conversation_id));
  return null;
end;
$$;

drop trigger if exists messages_sql_fanout on messages;
create trigger messages_sql_fanout after insert on messages
  for each row when (new.origin = 'sql') execute function mqchat_queue_sql_message();

-- The live JSON of queued messages (oldest first), locking the claimed queue rows.
create or replace function mqchat_claim_sql_messages(p_limit int)
returns table (message_id uuid, room text, message jsonb)
language sql as $$
  with claimed as (
    select q.message_id from sql_fanout_queue q order by q.message_id limit p_limit for update skip locked)
  select m.id, c.room, mqchat_message_json(m, c.room, p.username)
    from claimed join messages m on m.id = claimed.message_id
    join conversations c on c.id = m.conversation_id
    join profiles p on p.id = m.sender_id
   order by m.id
$$;
