-- Group conversations (issue 17): 3 to mqchat_group_max_members() members (256 unless the
-- database setting mqchat.group_max_members says otherwise), a name, and roles (owner, admin,
-- member). A group is a conversations row of kind 'group' with no participants; its members are rows
-- of conversation_members, each with its own unread count. Room "g:<16 hex>" (common/room.h: ':' is
-- no username character and there is no '_', so it never parses as a pair), id the plugin's UUIDv5
-- of the room like any conversation, so the shipper's COPY path resolves it from the room alone.
--
-- Everything that asks "is this user in this conversation" goes through the helpers replaced here
-- (mqchat_room_for, mqchat_conversation_of, mqchat_my_conversation, mqchat_user_conversation_ids,
-- the conversations select policy), so history, reads, edits, deletions, reactions, search,
-- archive and mute work in groups unchanged. Membership changes NOTIFY mqchat_groups (the broker
-- plugin's group directory reloads within a second) and publish an event on chat/<room>/events
-- through the outbox; they are not kept in history.

alter table conversations
  add column if not exists kind text not null default 'direct' check (kind in ('direct', 'group')),
  add column if not exists name text;
alter table conversations alter column participant_1 drop not null, alter column participant_2 drop not null;
alter table conversations drop constraint if exists conversations_kind_shape;
alter table conversations add constraint conversations_kind_shape check (
  case kind
    when 'direct' then participant_1 is not null and participant_2 is not null and name is null
    else participant_1 is null and participant_2 is null and room ~ '^g:[0-9a-f]{16}$'
         and name is not null and char_length(name) between 1 and 100 and name ~ '\S'
  end);

-- 001's trigger derives a pair's room and id from its participants; a group's are checked instead.
create or replace function conversations_canonical() returns trigger
language plpgsql as $$
declare
  name_1 text;
  name_2 text;
  swap   uuid;
begin
  if new.kind = 'group' then
    if new.room !~ '^g:[0-9a-f]{16}$' then
      raise exception 'a group room is g: and 16 hex digits' using errcode = '23514';
    end if;
    new.id := mqchat_conversation_id(new.room);
    return new;
  end if;
  select username into name_1 from profiles where id = new.participant_1;
  select username into name_2 from profiles where id = new.participant_2;
  if name_1 is null or name_2 is null then
    raise exception 'conversation participants must be existing profiles' using errcode = '23503';
  end if;
  if name_1 = name_2 then
    raise exception 'a conversation needs two different users' using errcode = '23514';
  end if;
  if name_1 collate "C" > name_2 collate "C" then
    swap := new.participant_1; new.participant_1 := new.participant_2; new.participant_2 := swap;
    new.room := name_2 || '_' || name_1;
  else
    new.room := name_1 || '_' || name_2;
  end if;
  new.id := mqchat_conversation_id(new.room);
  return new;
end;
$$;
drop trigger if exists conversations_canonical on conversations;
create trigger conversations_canonical
  before insert or update of participant_1, participant_2, room, id, kind on conversations
  for each row execute function conversations_canonical();

create table if not exists conversation_members (
  conversation_id uuid not null references conversations (id) on delete cascade,
  user_id         uuid not null references profiles (id) on delete cascade,
  role            text not null default 'member' check (role in ('owner', 'admin', 'member')),
  joined_at       timestamptz not null default now(),
  -- The conversation's last message when this member joined: unread counts only what follows (the
  -- whole history stays readable).
  joined_after    uuid,
  unread          integer not null default 0,
  primary key (conversation_id, user_id)
);
create index if not exists conversation_members_user on conversation_members (user_id);
create unique index if not exists conversation_members_one_owner on conversation_members (conversation_id)
  where role = 'owner';

create or replace function mqchat_group_max_members() returns int
language sql stable as $$
  select coalesce(nullif(current_setting('mqchat.group_max_members', true), '')::int, 256)
$$;

-- Is the acting user a member of group `conv`? The policies below use it (security definer, so
-- they do not recurse through each other); it answers for the caller only.
create or replace function mqchat_in_group(conv uuid) returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select exists (select 1 from conversation_members where conversation_id = conv and user_id = mqchat_current_user_id())
$$;

-- ------------------------------------------------------------------------------------------------
-- Who is in a conversation: pairs by their participants, groups by their members.
create or replace function mqchat_room_for(p_room text, p_user text) returns conversations
language sql stable as $$
  select c.* from conversations c
    join profiles p on p.username = p_user
   where c.room = p_room
     and (p.id in (c.participant_1, c.participant_2)
          or (c.kind = 'group' and exists (select 1 from conversation_members cm
                                            where cm.conversation_id = c.id and cm.user_id = p.id)))
$$;

create or replace function mqchat_conversation_of(p_id uuid, me uuid) returns conversations
language plpgsql stable as $$
declare
  c conversations;
begin
  select c2.* into c from messages m join conversations c2 on c2.id = m.conversation_id
   where m.id = p_id
     and (me in (c2.participant_1, c2.participant_2)
          or (c2.kind = 'group' and exists (select 1 from conversation_members cm
                                             where cm.conversation_id = c2.id and cm.user_id = me)));
  if c.id is null then
    raise exception 'no message % in your conversations', p_id using errcode = '42501', detail = 'not_found';
  end if;
  return c;
end;
$$;

create or replace function mqchat_my_conversation(p_room text, me uuid) returns conversations
language plpgsql stable as $$
declare
  c conversations;
begin
  select * into c from conversations c2
   where room = p_room
     and (me in (participant_1, participant_2)
          or (kind = 'group' and exists (select 1 from conversation_members cm
                                          where cm.conversation_id = c2.id and cm.user_id = me)));
  if c.id is null then
    raise exception 'no conversation % of yours', p_room using errcode = '42501', detail = 'not_found';
  end if;
  return c;
end;
$$;

create or replace function mqchat_user_conversation_ids(p_user uuid) returns uuid[]
language sql stable as $$
  select coalesce(array_agg(id), '{}')
    from (select c.id from conversations c where p_user in (c.participant_1, c.participant_2)
          union all
          select cm.conversation_id from conversation_members cm where cm.user_id = p_user) x
$$;

-- The app role sees the groups it belongs to (select only: it changes them through the functions).
drop policy if exists group_member on conversations;
create policy group_member on conversations for select to mqchat_app
  using (kind = 'group' and mqchat_in_group(id));

alter table conversation_members enable row level security;
revoke all on conversation_members from mqchat_app;
grant select on conversation_members to mqchat_app;
drop policy if exists fellow_members on conversation_members;
create policy fellow_members on conversation_members for select to mqchat_app
  using (mqchat_in_group(conversation_id));

-- The broker plugin's group directory (plugin/group_directory.h) listens here.
create or replace function mqchat_members_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform pg_notify('mqchat_groups', c.room)
     from conversations c
    where c.id in (select conversation_id from changed_members);
  return null;
end;
$$;
drop trigger if exists members_changed_insert on conversation_members;
create trigger members_changed_insert after insert on conversation_members
  referencing new table as changed_members for each statement execute function mqchat_members_changed();
drop trigger if exists members_changed_delete on conversation_members;
create trigger members_changed_delete after delete on conversation_members
  referencing old table as changed_members for each statement execute function mqchat_members_changed();

-- ------------------------------------------------------------------------------------------------
-- Per-member unread counts, kept like 021's: a member's unread is the messages of the group others
-- sent after it joined (id > joined_after), not deleted, with no receipt of its own. 021's
-- triggers keep the group's last_message_id (their pair counts stay 0: a group has no participants).
create or replace function mqchat_group_recount(p_convs uuid[]) returns void
language sql security definer set search_path = public, pg_temp as $$
  update conversation_members cm
     set unread = (select count(*) from messages m
                    where m.conversation_id = cm.conversation_id and m.sender_id <> cm.user_id
                      and m.deleted_at is null and (cm.joined_after is null or m.id > cm.joined_after)
                      and not exists (select 1 from message_read_status r
                                       where r.message_id = m.id and r.user_id = cm.user_id))
   where p_convs is null or cm.conversation_id = any(p_convs)
$$;

create or replace function mqchat_group_messages_added() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update conversation_members cm set unread = cm.unread + b.n
    from (select n.conversation_id, m.user_id, count(*) as n
            from new_messages n join conversation_members m on m.conversation_id = n.conversation_id
           where n.deleted_at is null and n.sender_id <> m.user_id
             and (m.joined_after is null or n.id > m.joined_after)
           group by n.conversation_id, m.user_id) b
   where cm.conversation_id = b.conversation_id and cm.user_id = b.user_id;
  return null;
end;
$$;

create or replace function mqchat_group_messages_updated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  moved uuid[];
begin
  -- Anything but a soft delete that counts (moved, sender changed, undeleted): recount.
  select array_agg(distinct v.cid) into moved
    from (select n.conversation_id as conv, o.conversation_id as old_conv
            from new_messages n join old_messages o on o.id = n.id
           where o.conversation_id <> n.conversation_id or o.sender_id <> n.sender_id
              or (o.deleted_at is not null and n.deleted_at is null)) x
   cross join lateral (values (x.conv), (x.old_conv)) v(cid)
   where exists (select 1 from conversation_members cm where cm.conversation_id = v.cid);
  if moved is not null then
    perform mqchat_group_recount(moved);
  end if;
  update conversation_members cm set unread = cm.unread - b.n
    from (select n.conversation_id, m.user_id, count(*) as n
            from new_messages n join old_messages o on o.id = n.id
            join conversation_members m on m.conversation_id = n.conversation_id
           where o.deleted_at is null and n.deleted_at is not null
             and o.conversation_id = n.conversation_id and o.sender_id = n.sender_id
             and (moved is null or n.conversation_id <> all(moved))
             and n.sender_id <> m.user_id and (m.joined_after is null or n.id > m.joined_after)
             and not exists (select 1 from message_read_status r where r.message_id = n.id and r.user_id = m.user_id)
           group by n.conversation_id, m.user_id) b
   where cm.conversation_id = b.conversation_id and cm.user_id = b.user_id;
  return null;
end;
$$;

create or replace function mqchat_group_messages_deleted() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_group_recount(array(select distinct o.conversation_id from old_messages o
                                      where exists (select 1 from conversation_members cm
                                                     where cm.conversation_id = o.conversation_id)));
  return null;
end;
$$;

create or replace function mqchat_group_counts_truncated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_group_recount(null);
  return null;
end;
$$;

create or replace function mqchat_group_receipts_added() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update conversation_members cm set unread = cm.unread - b.n
    from (select m.conversation_id, r.user_id, count(*) as n
            from new_receipts r join messages m on m.id = r.message_id
            join conversation_members mb on mb.conversation_id = m.conversation_id and mb.user_id = r.user_id
           where m.deleted_at is null and m.sender_id <> r.user_id
             and (mb.joined_after is null or m.id > mb.joined_after)
           group by m.conversation_id, r.user_id) b
   where cm.conversation_id = b.conversation_id and cm.user_id = b.user_id;
  return null;
end;
$$;

create or replace function mqchat_group_receipts_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_group_recount(array(
    select distinct m.conversation_id
      from (select message_id from old_receipts) r join messages m on m.id = r.message_id
     where exists (select 1 from conversation_members cm where cm.conversation_id = m.conversation_id)));
  return null;
end;
$$;

create or replace function mqchat_group_receipts_updated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_group_recount(array(
    select distinct m.conversation_id
      from (select message_id from old_receipts union select message_id from new_receipts) r
      join messages m on m.id = r.message_id
     where exists (select 1 from conversation_members cm where cm.conversation_id = m.conversation_id)));
  return null;
end;
$$;

drop trigger if exists messages_group_counts_added on messages;
create trigger messages_group_counts_added after insert on messages
  referencing new table as new_messages for each statement execute function mqchat_group_messages_added();
drop trigger if exists messages_group_counts_updated on messages;
create trigger messages_group_counts_updated after update on messages
  referencing old table as old_messages new table as new_messages
  for each statement execute function mqchat_group_messages_updated();
drop trigger if exists messages_group_counts_deleted on messages;
create trigger messages_group_counts_deleted after delete on messages
  referencing old table as old_messages for each statement execute function mqchat_group_messages_deleted();
drop trigger if exists messages_group_counts_truncated on messages;
create trigger messages_group_counts_truncated after truncate on messages
  for each statement execute function mqchat_group_counts_truncated();
drop trigger if exists receipts_group_counts_added on message_read_status;
create trigger receipts_group_counts_added after insert on message_read_status
  referencing new table as new_receipts for each statement execute function mqchat_group_receipts_added();
drop trigger if exists receipts_group_counts_removed on message_read_status;
create trigger receipts_group_counts_removed after delete on message_read_status
  referencing old table as old_receipts for each statement execute function mqchat_group_receipts_changed();
drop trigger if exists receipts_group_counts_updated on message_read_status;
create trigger receipts_group_counts_updated after update on message_read_status
  referencing old table as old_receipts new table as new_receipts
  for each statement execute function mqchat_group_receipts_updated();
drop trigger if exists receipts_group_counts_truncated on message_read_status;
create trigger receipts_group_counts_truncated after truncate on message_read_status
  for each statement execute function mqchat_group_counts_truncated();

-- ------------------------------------------------------------------------------------------------
-- Group operations: one implementation for the bridge (users/<me>/requests/group) and the SQL API.
-- Returns {"status":"ok","group":{…}} or {"status":<code>,"reason":…}; codes: not_found (no such
-- group of yours), forbidden (not for your role), too_few, too_many (over the limit), unknown_user,
-- not_member, owner_must_transfer, bad_name, bad_request.

create or replace function mqchat_group_json(conv uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object(
           'room', c.room, 'name', c.name, 'created_at', mqchat_ts(c.created_at),
           'members', coalesce((select jsonb_agg(jsonb_build_object('user', p.username, 'role', cm.role)
                                                 order by case cm.role when 'owner' then 0 when 'admin' then 1 else 2 end,
                                                          p.username collate "C")
                                  from conversation_members cm join profiles p on p.id = cm.user_id
                                 where cm.conversation_id = c.id), '[]'::jsonb))
    from conversations c where c.id = conv
$$;

create or replace function mqchat_group_op(p_user uuid, p_op text, p_room text, p_name text, p_users text[], p_role text)
returns jsonb
language plpgsql as $$
declare
  me_name text := (select username from profiles where id = p_user);
  c conversations;
  my_role text;
  their_role text;
  target uuid;
  targets uuid[];
  unknown text[];
  wanted text[];
  added text[];
  n int;
  new_room text;
  clean_name text := btrim(p_name);
  event jsonb;
begin
  if me_name is null then return jsonb_build_object('status', 'unknown_user', 'reason', 'no such requester'); end if;
  if p_op = 'create' then
    if clean_name is null or char_length(clean_name) not between 1 and 100 then
      return jsonb_build_object('status', 'bad_name', 'reason', 'a group name has 1 to 100 characters');
    end if;
    wanted := array(select distinct u from unnest(coalesce(p_users, '{}')) u where u is distinct from me_name);
    unknown := array(select u from unnest(wanted) u where not exists (select 1 from profiles where username = u));
    if cardinality(unknown) > 0 then
      return jsonb_build_object('status', 'unknown_user', 'reason', 'no such user: ' || array_to_string(unknown, ', '));
    end if;
    if cardinality(wanted) + 1 < 3 then
      return jsonb_build_object('status', 'too_few', 'reason', 'a group has at least 3 members (you and two others)');
    end if;
    if cardinality(wanted) + 1 > mqchat_group_max_members() then
      return jsonb_build_object('status', 'too_many', 'reason', 'a group has at most ' || mqchat_group_max_members() || ' members');
    end if;
    loop
      new_room := 'g:' || encode(gen_random_bytes(8), 'hex');
      exit when not exists (select 1 from conversations x where x.room = new_room);
    end loop;
    insert into conversations (id, room, kind, name) values (mqchat_conversation_id(new_room), new_room, 'group', clean_name)
      returning * into c;
    insert into conversation_members (conversation_id, user_id, role)
    select c.id, p_user, 'owner'
    union all
    select c.id, p.id, 'member' from profiles p where p.username = any(wanted);
    event := jsonb_build_object('event', 'group_created', 'by', me_name, 'name', clean_name, 'users', to_jsonb(wanted));
  else
    select * into c from conversations where conversations.room = p_room and kind = 'group' for no key update;
    select cm.role into my_role from conversation_members cm where cm.conversation_id = c.id and cm.user_id = p_user;
    if c.id is null or my_role is null then
      return jsonb_build_object('status', 'not_found', 'reason', 'no group ' || coalesce(p_room, '') || ' of yours');
    end if;
    if p_op in ('remove', 'transfer', 'role') then
      if cardinality(p_users) is distinct from 1 then
        return jsonb_build_object('status', 'bad_request', 'reason', p_op || ' takes one "user"');
      end if;
      target := (select id from profiles where username = p_users[1]);
      if target is null then
        return jsonb_build_object('status', 'unknown_user', 'reason', 'no such user: ' || p_users[1]);
      end if;
      select cm.role into their_role from conversation_members cm where cm.conversation_id = c.id and cm.user_id = target;
      if their_role is null then
        return jsonb_build_object('status', 'not_member', 'reason', p_users[1] || ' is not a member of this group');
      end if;
    end if;
    case p_op
      when 'info' then
        return jsonb_build_object('status', 'ok', 'group', mqchat_group_json(c.id) || jsonb_build_object('role', my_role));
      when 'rename' then
        if my_role = 'member' then
          return jsonb_build_object('status', 'forbidden', 'reason', 'only the owner and admins rename a group');
        end if;
        if clean_name is null or char_length(clean_name) not between 1 and 100 then
          return jsonb_build_object('status', 'bad_name', 'reason', 'a group name has 1 to 100 characters');
        end if;
        update conversations set name = clean_name where id = c.id;
        event := jsonb_build_object('event', 'group_renamed', 'by', me_name, 'name', clean_name);
      when 'add' then
        if my_role = 'member' then
          return jsonb_build_object('status', 'forbidden', 'reason', 'only the owner and admins add members');
        end if;
        wanted := array(select distinct u from unnest(coalesce(p_users, '{}')) u);
        if cardinality(wanted) = 0 then
          return jsonb_build_object('status', 'bad_request', 'reason', 'add takes "users"');
        end if;
        unknown := array(select u from unnest(wanted) u where not exists (select 1 from profiles where username = u));
        if cardinality(unknown) > 0 then
          return jsonb_build_object('status', 'unknown_user', 'reason', 'no such user: ' || array_to_string(unknown, ', '));
        end if;
        added := array(select p.username from profiles p where p.username = any(wanted)
                         and not exists (select 1 from conversation_members cm
                                          where cm.conversation_id = c.id and cm.user_id = p.id)
                        order by p.username collate "C");
        n := (select count(*) from conversation_members where conversation_id = c.id);
        if n + cardinality(added) > mqchat_group_max_members() then
          return jsonb_build_object('status', 'too_many', 'reason', 'a group has at most ' || mqchat_group_max_members() || ' members');
        end if;
        if cardinality(added) = 0 then
          return jsonb_build_object('status', 'ok', 'unchanged', true, 'group', mqchat_group_json(c.id));
        end if;
        insert into conversation_members (conversation_id, user_id, role, joined_after)
        select c.id, p.id, 'member', c.last_message_id from profiles p where p.username = any(added);
        event := jsonb_build_object('event', 'member_added', 'by', me_name, 'users', to_jsonb(added));
      when 'remove' then
        if target = p_user then
          return jsonb_build_object('status', 'bad_request', 'reason', 'to leave a group, use leave');
        end if;
        if my_role = 'member' or (my_role = 'admin' and their_role <> 'member') then
          return jsonb_build_object('status', 'forbidden',
                                    'reason', case when my_role = 'member' then 'only the owner and admins remove members'
                                                   else 'admins remove members only; the owner removes admins' end);
        end if;
        delete from conversation_members where conversation_id = c.id and user_id = target;
        perform pg_notify('mqchat_users', p_users[1]);
        event := jsonb_build_object('event', 'member_removed', 'by', me_name, 'user', p_users[1]);
      when 'leave' then
        if my_role = 'owner' then
          return jsonb_build_object('status', 'owner_must_transfer',
                                    'reason', 'the owner transfers ownership (transfer) before leaving');
        end if;
        delete from conversation_members where conversation_id = c.id and user_id = p_user;
        perform pg_notify('mqchat_users', me_name);
        event := jsonb_build_object('event', 'member_left', 'by', me_name, 'user', me_name);
      when 'transfer' then
        if my_role <> 'owner' then
          return jsonb_build_object('status', 'forbidden', 'reason', 'only the owner transfers ownership');
        end if;
        if target = p_user then
          return jsonb_build_object('status', 'ok', 'unchanged', true, 'group', mqchat_group_json(c.id));
        end if;
        update conversation_members set role = 'admin' where conversation_id = c.id and user_id = p_user;
        update conversation_members set role = 'owner' where conversation_id = c.id and user_id = target;
        event := jsonb_build_object('event', 'owner_changed', 'by', me_name, 'user', p_users[1]);
      when 'role' then
        if my_role <> 'owner' then
          return jsonb_build_object('status', 'forbidden', 'reason', 'only the owner changes roles');
        end if;
        if p_role is null or p_role not in ('admin', 'member') then
          return jsonb_build_object('status', 'bad_request', 'reason', '"role" is admin or member (transfer makes an owner)');
        end if;
        if their_role = 'owner' then
          return jsonb_build_object('status', 'forbidden', 'reason', 'the owner''s role changes by transfer only');
        end if;
        if their_role = p_role then
          return jsonb_build_object('status', 'ok', 'unchanged', true, 'group', mqchat_group_json(c.id));
        end if;
        update conversation_members set role = p_role where conversation_id = c.id and user_id = target;
        event := jsonb_build_object('event', 'role_changed', 'by', me_name, 'user', p_users[1], 'role', p_role);
      else
        return jsonb_build_object('status', 'bad_request',
                                  'reason', 'op is create, info, rename, add, remove, leave, transfer or role');
    end case;
  end if;
  event := event || jsonb_build_object('members', (select count(*) from conversation_members where conversation_id = c.id));
  perform mqchat_outbox_add(c.room, 'events', null, event);   -- also marks the room's summaries stale
  return jsonb_build_object('status', 'ok', 'group', mqchat_group_json(c.id));
end;
$$;

-- The bridge's entry point (users/<me>/requests/group): requester by name.
create or replace function mqchat_group_request(p_user text, p_op text, p_room text, p_name text, p_users text[],
                                                p_role text)
returns jsonb
language sql as $$
  select mqchat_group_op(mqchat_profile_id(p_user), p_op, p_room, p_name, p_users, p_role)
$$;

-- The SQL API: the same operations as the acting user, errors raised with SQLSTATE and DETAIL code.
create or replace function mqchat_group_as_caller(p_op text, p_room text, p_name text, p_users text[], p_role text)
returns jsonb
language plpgsql as $$
declare
  r jsonb := mqchat_group_op(mqchat_current_user_id(), p_op, p_room, p_name, p_users, p_role);
  state text;
begin
  if r->>'status' = 'ok' then return r->'group'; end if;
  state := case r->>'status'
             when 'not_found' then '42501' when 'forbidden' then '42501'
             when 'unknown_user' then '23503' when 'not_member' then '23503'
             when 'owner_must_transfer' then '55000'
             else '23514' end;
  raise exception '%', r->>'reason' using errcode = state, detail = r->>'status';
end;
$$;

create or replace function create_group(name text, members text[]) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('create', null, name, members, null)
$$;
create or replace function get_group(room text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('info', room, null, null, null)
$$;
create or replace function rename_group(room text, name text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('rename', room, name, null, null)
$$;
create or replace function add_group_members(room text, members text[]) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('add', room, null, members, null)
$$;
create or replace function remove_group_member(room text, member text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('remove', room, null, array[member], null)
$$;
create or replace function leave_group(room text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('leave', room, null, null, null)
$$;
create or replace function transfer_group_ownership(room text, new_owner text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('transfer', room, null, array[new_owner], null)
$$;
create or replace function set_group_role(room text, member text, role text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_group_as_caller('role', room, null, array[member], role)
$$;

-- Sends to a group of the caller; returns the message as chat/<room>/messages carries it.
create or replace function send_group_message(room text, content text, message_type text default 'text',
                                              metadata jsonb default '{}', client_id text default null)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me uuid := mqchat_current_user_id();
  c  conversations := mqchat_my_conversation(room, me);
  m  messages;
begin
  if c.kind <> 'group' then
    raise exception '% is not a group (send_message writes to a user)', room using errcode = '42501', detail = 'not_found';
  end if;
  insert into messages (conversation_id, sender_id, content, message_type, metadata, client_id, origin)
  values (c.id, me, content, coalesce(message_type, 'text'), coalesce(metadata, '{}'), client_id, 'sql')
  returning * into m;
  return mqchat_message_json(m, c.room, (select username from profiles where id = me));
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- Read receipts in groups: "read by 2 of 4" — the members other than the sender who have read
-- message p_id ("read_by") and how many such members there are ("of").
create or replace function mqchat_group_read_counts(p_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object(
           'read_by', (select count(*) from message_read_status r
                        where r.message_id = m.id and r.user_id <> m.sender_id),
           'of', (select count(*) from conversation_members cm
                   where cm.conversation_id = m.conversation_id and cm.user_id <> m.sender_id))
    from messages m where m.id = p_id
$$;

-- mark_message_read (011): in a group the sender's event carries the counts too.
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
    mqchat_read_event((select username from profiles where id = me), message_id, false, now())
    || case when c.kind = 'group' then mqchat_group_read_counts(message_id) else '{}'::jsonb end);
  return true;
end;
$$;

-- ------------------------------------------------------------------------------------------------
-- Summaries, history and the conversation list with groups.

-- Summary entries (033) plus the user's groups: {"room","group":true,"name","members","role",
-- "last_message","unread_count","updated_at"(,"muted")}.
create or replace function mqchat_summary_entries(u uuid, p_archived boolean) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(e.j order by e.t desc, e.last_id desc nulls last), '[]'::jsonb)
    from (select jsonb_build_object(
                   'room', c.room, 'with', other.username, 'last_message', last.j,
                   'unread_count', case when c.participant_1 = u then c.unread_1 else c.unread_2 end,
                   'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end as j,
                 greatest(c.updated_at, last.created_at) as t, last.id as last_id
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
          union all
          select jsonb_build_object(
                   'room', c.room, 'group', true, 'name', c.name,
                   'members', (select count(*) from conversation_members x where x.conversation_id = c.id),
                   'role', cm.role, 'last_message', last.j, 'unread_count', cm.unread,
                   'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end,
                 greatest(c.updated_at, last.created_at), last.id
            from conversation_members cm
            join conversations c on c.id = cm.conversation_id
            left join conversation_settings s on s.user_id = u and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, u) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last on true
           where cm.user_id = u
             and coalesce(mqchat_is_archived(s, c.last_message_id), false) = p_archived) e
$$;

-- History pages (033); in a group each message also says how many members have read it
-- ("read_by", the sender not counted) and the page how many members the group has.
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
                            || case when c.kind = 'group'
                                    then jsonb_build_object('read_by', (select count(*) from message_read_status rs
                                                                          where rs.message_id = r.id
                                                                            and rs.user_id <> r.sender_id))
                                    else '{}'::jsonb end
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
  return jsonb_build_object('messages', page, 'has_more', more)
         || case when c.kind = 'group'
                 then jsonb_build_object('members', (select count(*) from conversation_members where conversation_id = c.id))
                 else '{}'::jsonb end;
end;
$$;

-- get_user_conversations (033) with the caller's groups (with_user null; the group's name is in
-- get_group and the summary).
create or replace function get_user_conversations()
returns table (conversation_id uuid, room text, with_user text, last_message jsonb, unread_count bigint,
               updated_at timestamptz)
language plpgsql stable security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  me uuid := mqchat_current_user_id();
begin
  return query
  select x.id, x.room, x.with_user, x.j, x.unread, x.t
    from (select c.id, c.room, other.username as with_user, last_message.j,
                 (case when c.participant_1 = me then c.unread_1 else c.unread_2 end)::bigint as unread,
                 greatest(c.updated_at, last_message.created_at) as t, last_message.id as last_id
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
          union all
          select c.id, c.room, null, last_message.j, cm.unread::bigint,
                 greatest(c.updated_at, last_message.created_at), last_message.id
            from conversation_members cm
            join conversations c on c.id = cm.conversation_id
            left join conversation_settings s on s.user_id = me and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, me) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last_message on true
           where cm.user_id = me
             and not coalesce(mqchat_is_archived(s, c.last_message_id), false)) x
   order by x.t desc, x.last_id desc nulls last, x.id;
end;
$$;

revoke all on function mqchat_group_max_members(), mqchat_members_changed(),
  mqchat_group_recount(uuid[]), mqchat_group_messages_added(), mqchat_group_messages_updated(),
  mqchat_group_messages_deleted(), mqchat_group_counts_truncated(), mqchat_group_receipts_added(),
  mqchat_group_receipts_changed(), mqchat_group_receipts_updated(), mqchat_group_json(uuid),
  mqchat_group_op(uuid, text, text, text, text[], text), mqchat_group_request(text, text, text, text, text[], text),
  mqchat_group_as_caller(text, text, text, text[], text), mqchat_group_read_counts(uuid),
  create_group(text, text[]), get_group(text), rename_group(text, text), add_group_members(text, text[]),
  remove_group_member(text, text), leave_group(text), transfer_group_ownership(text, text),
  set_group_role(text, text, text), send_group_message(text, text, text, jsonb, text)
  from public, mqchat_app;
grant execute on function create_group(text, text[]), get_group(text), rename_group(text, text),
  add_group_members(text, text[]), remove_group_member(text, text), leave_group(text),
  transfer_group_ownership(text, text), set_group_role(text, text, text),
  send_group_message(text, text, text, jsonb, text), mqchat_in_group(uuid)
  to mqchat_app;
