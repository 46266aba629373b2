-- Counts that do not scan (issue 14). Each conversation row carries, for each participant, what a
-- summary shows and a read watermark, maintained in the transaction that changes them:
--   last_message_id   the conversation's newest message (max id), a pointer: edits and deletions show
--                     through it without being copied, and ingest writes no second copy of the content
--   unread_1/unread_2 unread count of participant_1/participant_2: messages the OTHER participant
--                     sent, not deleted, with no receipt of this participant (the full recount below)
--   read_floor_1/_2   every message from the other participant with id <= floor is read or deleted
--                     (null: unknown), so an "up_to" read scans only what lies above it
-- Statement-level triggers with transition tables keep a batch ingest at one conversation update
-- per conversation per statement. Rare administrative changes (hard deletes, receipts removed,
-- truncation, participants changed, a message moved or undeleted) recount their conversations.
-- Summaries then read O(1) rows per conversation: the conversation, the last message by primary key.
--
-- The app role can select conversations, so it sees both participants' counts of its own
-- conversations: nothing new (a sender already sees the receipts of its messages).

alter table conversations
  add column if not exists last_message_id uuid,
  add column if not exists unread_1 integer not null default 0,
  add column if not exists unread_2 integer not null default 0,
  add column if not exists read_floor_1 uuid,
  add column if not exists read_floor_2 uuid;

-- ------------------------------------------------------------------------------------------------
-- The full recount (backfill, and the rare changes above). p_convs null: every conversation.
create or replace function mqchat_recount(p_convs uuid[]) returns void
language sql security definer set search_path = public, pg_temp as $$
  update conversations c
     set last_message_id = x.last_id, unread_1 = x.n1, unread_2 = x.n2,
         read_floor_1 = case when x.n1 = 0 then x.last_id end,
         read_floor_2 = case when x.n2 = 0 then x.last_id end
    from (select c2.id,
                 (select m.id from messages m where m.conversation_id = c2.id order by m.id desc limit 1) as last_id,
                 (select count(*) from messages m
                   where m.conversation_id = c2.id and m.sender_id <> c2.participant_1 and m.deleted_at is null
                     and not exists (select 1 from message_read_status r
                                      where r.message_id = m.id and r.user_id = c2.participant_1)) as n1,
                 (select count(*) from messages m
                   where m.conversation_id = c2.id and m.sender_id <> c2.participant_2 and m.deleted_at is null
                     and not exists (select 1 from message_read_status r
                                      where r.message_id = m.id and r.user_id = c2.participant_2)) as n2
            from conversations c2
           where p_convs is null or c2.id = any(p_convs)) x
   where c.id = x.id
$$;

-- ------------------------------------------------------------------------------------------------
-- New messages (ingest: COPY merge, mqchat_ingest, SQL sends, the app role's own inserts). Replaces
-- 011's trigger function of the same name, so one update per conversation per statement does the
-- times and the counts. A message arriving below a participant's floor (late, behind an "up_to"
-- read) lowers the floor to the message before it.
create or replace function mqchat_conversation_times() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update conversations c
     set created_at = least(c.created_at, b.first_at),
         updated_at = greatest(c.updated_at, b.last_at),
         last_message_id = (select m.id from messages m where m.conversation_id = c.id order by m.id desc limit 1),
         unread_1 = c.unread_1 + b.to_1,
         unread_2 = c.unread_2 + b.to_2,
         read_floor_1 = case when b.min_to_1 <= c.read_floor_1
                             then (select m.id from messages m where m.conversation_id = c.id and m.id < b.min_to_1
                                    order by m.id desc limit 1)
                             else c.read_floor_1 end,
         read_floor_2 = case when b.min_to_2 <= c.read_floor_2
                             then (select m.id from messages m where m.conversation_id = c.id and m.id < b.min_to_2
                                    order by m.id desc limit 1)
                             else c.read_floor_2 end
    from (select n.conversation_id, min(n.created_at) as first_at, max(n.created_at) as last_at,
                 count(*) filter (where n.deleted_at is null and n.sender_id <> p.participant_1) as to_1,
                 count(*) filter (where n.deleted_at is null and n.sender_id <> p.participant_2) as to_2,
                 -- uuid has no min() in Postgres 15; its text form sorts the same under "C"
                 min(n.id::text collate "C") filter (where n.deleted_at is null and n.sender_id <> p.participant_1)::uuid as min_to_1,
                 min(n.id::text collate "C") filter (where n.deleted_at is null and n.sender_id <> p.participant_2)::uuid as min_to_2
            from new_messages n join conversations p on p.id = n.conversation_id
           group by n.conversation_id) b
   where c.id = b.conversation_id;
  return null;
end;
$$;

-- Updated messages: a soft delete (deleted_at set, nothing else that counts changed) takes the
-- message out of its recipient's unread count unless it was read; edits change no count (the last
-- message is a pointer) and write nothing here. Anything else that counts recounts.
create or replace function mqchat_messages_updated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  moved uuid[];
begin
  select array_agg(distinct v.cid) into moved
    from (select n.conversation_id as conv, o.conversation_id as old_conv
            from new_messages n left join old_messages o on o.id = n.id
           where o.id is null or o.conversation_id <> n.conversation_id or o.sender_id <> n.sender_id
              or (o.deleted_at is not null and n.deleted_at is null)
          union all
          select o.conversation_id, null from old_messages o left join new_messages n on n.id = o.id
           where n.id is null) x
   cross join lateral (values (x.conv), (x.old_conv)) v(cid)
   where v.cid is not null;
  if moved is not null then
    perform mqchat_recount(moved);
  end if;

  update conversations c
     set unread_1 = c.unread_1 - b.from_1, unread_2 = c.unread_2 - b.from_2,
         read_floor_1 = case when c.unread_1 - b.from_1 = 0 then c.last_message_id else c.read_floor_1 end,
         read_floor_2 = case when c.unread_2 - b.from_2 = 0 then c.last_message_id else c.read_floor_2 end
    from (select n.conversation_id,
                 count(*) filter (where n.sender_id <> p.participant_1 and not exists (
                   select 1 from message_read_status r where r.message_id = n.id and r.user_id = p.participant_1))
                   as from_1,
                 count(*) filter (where n.sender_id <> p.participant_2 and not exists (
                   select 1 from message_read_status r where r.message_id = n.id and r.user_id = p.participant_2))
                   as from_2
            from new_messages n join old_messages o on o.id = n.id
            join conversations p on p.id = n.conversation_id
           where o.deleted_at is null and n.deleted_at is not null
             and o.conversation_id = n.conversation_id and o.sender_id = n.sender_id
             and (moved is null or n.conversation_id <> all(moved))
           group by n.conversation_id) b
   where c.id = b.conversation_id and (b.from_1 > 0 or b.from_2 > 0);
  return null;
end;
$$;

-- Hard deletes (cascades from a conversation or profile, or the owner's hand) and truncation recount;
-- by the time this runs the cascaded receipts are gone too.
create or replace function mqchat_messages_deleted() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_recount(array(select distinct o.conversation_id from old_messages o));
  return null;
end;
$$;

create or replace function mqchat_counts_truncated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_recount(null);
  return null;
end;
$$;

-- New receipts: each one is a message going from unread to read for its user, when that message
-- counts (the other participant's, not deleted). Reaching zero moves the floor to the last message.
create or replace function mqchat_receipts_added() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update conversations c
     set unread_1 = c.unread_1 - b.read_1, unread_2 = c.unread_2 - b.read_2,
         read_floor_1 = case when c.unread_1 - b.read_1 = 0 then c.last_message_id else c.read_floor_1 end,
         read_floor_2 = case when c.unread_2 - b.read_2 = 0 then c.last_message_id else c.read_floor_2 end
    from (select m.conversation_id,
                 count(*) filter (where r.user_id = p.participant_1) as read_1,
                 count(*) filter (where r.user_id = p.participant_2) as read_2
            from new_receipts r join messages m on m.id = r.message_id
            join conversations p on p.id = m.conversation_id
           where m.deleted_at is null and m.sender_id <> r.user_id
           group by m.conversation_id) b
   where c.id = b.conversation_id and (b.read_1 > 0 or b.read_2 > 0);
  return null;
end;
$$;

-- Receipts removed (the owner's hand, or cascades): recount the conversations of messages still there.
create or replace function mqchat_receipts_removed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_recount(array(select distinct m.conversation_id
                                 from old_receipts r join messages m on m.id = r.message_id));
  return null;
end;
$$;

-- A receipt moved to another message or user (owner only): recount both sides.
create or replace function mqchat_receipts_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_recount(array(select distinct m.conversation_id
                                 from (select message_id from old_receipts union select message_id from new_receipts) r
                                 join messages m on m.id = r.message_id));
  return null;
end;
$$;

create or replace function mqchat_participants_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_recount(array[new.id]);
  return null;
end;
$$;

drop trigger if exists messages_counts_updated on messages;
create trigger messages_counts_updated after update on messages
  referencing old table as old_messages new table as new_messages
  for each statement execute function mqchat_messages_updated();
drop trigger if exists messages_counts_deleted on messages;
create trigger messages_counts_deleted after delete on messages
  referencing old table as old_messages for each statement execute function mqchat_messages_deleted();
drop trigger if exists messages_counts_truncated on messages;
create trigger messages_counts_truncated after truncate on messages
  for each statement execute function mqchat_counts_truncated();
drop trigger if exists receipts_counts_added on message_read_status;
create trigger receipts_counts_added after insert on message_read_status
  referencing new table as new_receipts for each statement execute function mqchat_receipts_added();
drop trigger if exists receipts_counts_removed on message_read_status;
create trigger receipts_counts_removed after delete on message_read_status
  referencing old table as old_receipts for each statement execute function mqchat_receipts_removed();
drop trigger if exists receipts_counts_changed on message_read_status;
create trigger receipts_counts_changed after update on message_read_status
  referencing old table as old_receipts new table as new_receipts
  for each statement execute function mqchat_receipts_changed();
drop trigger if exists receipts_counts_truncated on message_read_status;
create trigger receipts_counts_truncated after truncate on message_read_status
  for each statement execute function mqchat_counts_truncated();
drop trigger if exists conversations_participants_changed on conversations;
create trigger conversations_participants_changed after update of participant_1, participant_2 on conversations
  for each row execute function mqchat_participants_changed();

-- Backfill existing data.
do $$ begin perform mqchat_recount(null); end $$;

-- ------------------------------------------------------------------------------------------------
-- The changes, with the counts in mind.

-- Reads lock the conversation row first: a message committed concurrently below an "up_to" bound
-- either is seen by the insert below or lowers the floor this read sets (its trigger's update waits
-- for this transaction and sees the new floor). Deletions take the same row first (change_core),
-- so a read and a deletion of one message never wait for each other in opposite orders.
create or replace function mqchat_read_core(conv uuid, reader uuid, p_message_id uuid, p_up_to uuid)
returns jsonb
language plpgsql as $$
declare
  target messages;
  c conversations;
  floor uuid;
  marked integer;
begin
  select * into target from messages where id = coalesce(p_message_id, p_up_to) and conversation_id = conv;
  if target.id is null then return jsonb_build_object('status', 'not_found'); end if;
  if p_message_id is not null and target.sender_id = reader then return jsonb_build_object('status', 'own'); end if;
  select * into c from conversations where id = conv for no key update;
  floor := case reader when c.participant_1 then c.read_floor_1 when c.participant_2 then c.read_floor_2 end;
  with marked_rows as (
    insert into message_read_status (message_id, user_id, read_at)
    select m.id, reader, now() from messages m
     where m.conversation_id = conv and m.sender_id <> reader and m.deleted_at is null
       and (case when p_message_id is not null then m.id = p_message_id
                 else m.id <= p_up_to and (floor is null or m.id > floor) end)
    on conflict do nothing
    returning message_id)
  select count(*) into marked from marked_rows;
  if p_message_id is null and (floor is null or floor < p_up_to) then
    update conversations
       set read_floor_1 = case when reader = participant_1 then greatest(read_floor_1, p_up_to) else read_floor_1 end,
           read_floor_2 = case when reader = participant_2 then greatest(read_floor_2, p_up_to) else read_floor_2 end
     where id = conv and reader in (participant_1, participant_2);
  end if;
  if marked > 0 then
    perform pg_notify('mqchat_rooms', c.room);
  end if;
  return jsonb_build_object('status', 'ok', 'marked', marked, 'read_at', mqchat_ts(now()));
end;
$$;

create or replace function mqchat_change_core(conv uuid, author uuid, p_id uuid, p_content text)
returns jsonb
language plpgsql as $$
declare
  m messages;
begin
  if p_content is null then   -- a deletion changes the counts: the conversation row first (see read_core)
    perform 1 from conversations where id = conv for no key update;
  end if;
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

-- The COPY merge of 020 without its conversations.updated_at update: the insert trigger does it.
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

  perform pg_notify('mqchat_rooms', c.room)
     from conversations c
    where c.id in (select distinct conversation_id from pg_temp.mqchat_ingest_stage);
  return inserted;
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- Summaries: O(1) rows per conversation (the row itself, the last message by primary key, two
-- profiles by primary key). Same answers as 010/011's recounting versions.
create or replace function mqchat_summaries(p_users text[])
returns table (username text, summary jsonb)
language sql stable as $$
  select u.username,
         coalesce((select jsonb_agg(jsonb_build_object(
                             'room', c.room, 'with', other.username, 'last_message', last.j,
                             'unread_count', case when c.participant_1 = u.id then c.unread_1 else c.unread_2 end,
                             'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                           order by greatest(c.updated_at, last.created_at) desc, last.id desc nulls last)
                     from conversations c
                     join profiles other
                       on other.id = case when c.participant_1 = u.id then c.participant_2 else c.participant_1 end
                     left join lateral (
                       select mqchat_message_full_json(m, c.room, s.username) as j, m.created_at, m.id
                         from messages m join profiles s on s.id = m.sender_id
                        where m.id = c.last_message_id) last on true
                    where u.id in (c.participant_1, c.participant_2)), '[]'::jsonb)
    from profiles u
   where u.username = any(p_users)
$$;

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
    left join lateral (
      select mqchat_message_full_json(m, c.room, p.username) as j, m.created_at, m.id
        from messages m join profiles p on p.id = m.sender_id
       where m.id = c.last_message_id) last_message on true
   where me in (c.participant_1, c.participant_2)
   order by greatest(c.updated_at, last_message.created_at) desc, last_message.id desc nulls last, c.id;
end;
$$;

-- New functions are not for PUBLIC or the app role (tests/sql/rls_test.sql checks the list); nor are
-- 020's shipper functions, which it left executable by PUBLIC.
revoke all on function mqchat_ensure_conversations(text[], timestamptz[]), mqchat_ingest_staged(),
  mqchat_recount(uuid[]), mqchat_messages_updated(), mqchat_messages_deleted(),
  mqchat_counts_truncated(), mqchat_receipts_added(), mqchat_receipts_removed(), mqchat_receipts_changed(),
  mqchat_participants_changed()
  from public, mqchat_app;
