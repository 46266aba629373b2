-- Reactions (issue 17): a user adds or removes an emoji on a message of a conversation they take
-- part in. Rows are (message, user, emoji): nothing assumes two participants. History and summaries
-- show per message [{"emoji","count","mine"}] (key "reactions", present when there is any); the
-- room gets {"event":"reaction","id","user","emoji","action":"added"|"removed","reactions":[{"emoji",
-- "count"}]} on chat/<room>/events, from the bridge (MQTT requests) or the outbox (SQL API).

-- An emoji: 1..16 code points of the emoji blocks, with what sequences are made of (ZWJ, variation
-- selectors, keycaps, tags, skin tones); at least one pictograph. No letters, spaces or markup.
create or replace function mqchat_is_emoji(e text) returns boolean
language sql immutable as $$
  select e is not null and char_length(e) between 1 and 16 and octet_length(e) <= 64
     and e ~ '^[0-9#*\u00a9\u00ae\u200d\u203c-\u3299\ufe0e\ufe0f\U0001F000-\U0001FAFF\U000E0020-\U000E007F]+$'
     and e ~ '[\u00a9\u00ae\u203c-\u3299\U0001F000-\U0001FAFF]'
$$;

-- How many different emoji one user may put on one message.
create or replace function mqchat_max_reactions_per_user() returns int language sql immutable as $$ select 8 $$;

create table if not exists message_reactions (
  message_id uuid not null references messages (id) on delete cascade,
  user_id    uuid not null references profiles (id) on delete cascade,
  emoji      text not null constraint message_reactions_emoji check (mqchat_is_emoji(emoji)),
  created_at timestamptz not null default clock_timestamp(),   -- orders ties: first used first
  primary key (message_id, user_id, emoji)
);
create index if not exists message_reactions_user on message_reactions (user_id);

-- A message's reactions as the room sees them (no "mine"), most used first.
create or replace function mqchat_reaction_counts(p_message uuid) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('emoji', emoji, 'count', n) order by n desc, first_at, emoji), '[]'::jsonb)
    from (select emoji, count(*) as n, min(created_at) as first_at
            from message_reactions where message_id = p_message group by emoji) x
$$;

-- As `p_viewer` sees them: each with "mine". Null when there are none.
create or replace function mqchat_reactions_json(p_message uuid, p_viewer uuid) returns jsonb
language sql stable as $$
  select jsonb_agg(jsonb_build_object('emoji', emoji, 'count', n, 'mine', mine) order by n desc, first_at, emoji)
    from (select emoji, count(*) as n, min(created_at) as first_at, bool_or(user_id = p_viewer) as mine
            from message_reactions where message_id = p_message group by emoji) x
$$;

-- A message as `p_viewer` sees it outside the live stream: the history form (reply quote included)
-- plus its reactions with "mine" (history pages, summaries, search results).
create or replace function mqchat_message_view_json(m messages, room text, sender text, p_viewer uuid) returns jsonb
language sql stable as $$
  select mqchat_message_full_json(m, room, sender)
         || case when exists (select 1 from message_reactions r where r.message_id = m.id)
                 then jsonb_build_object('reactions', mqchat_reactions_json(m.id, p_viewer)) else '{}'::jsonb end
$$;

-- A history page's message (010's form, read_at of the recipient) with reactions as `p_viewer` sees them.
create or replace function mqchat_history_view_json(m messages, room text, sender text, recipient uuid, p_viewer uuid)
returns jsonb
language sql stable as $$
  select mqchat_history_json(m, room, sender, recipient)
         || case when exists (select 1 from message_reactions r where r.message_id = m.id)
                 then jsonb_build_object('reactions', mqchat_reactions_json(m.id, p_viewer)) else '{}'::jsonb end
$$;

-- Adds (p_add) or removes emoji `p_emoji` of `p_user` on message `p_id` of `conv`. Returns
-- {"status": ok|not_found|deleted|bad_emoji|too_many, "changed": bool, "event": the room's event
-- when changed}. Deleted messages take no new reactions (removing stays possible).
create or replace function mqchat_react_core(conv uuid, p_user uuid, p_id uuid, p_emoji text, p_add boolean)
returns jsonb
language plpgsql as $$
declare
  m messages;
  changed integer;
begin
  select * into m from messages where id = p_id and conversation_id = conv;
  if m.id is null then return jsonb_build_object('status', 'not_found'); end if;
  if not mqchat_is_emoji(p_emoji) then return jsonb_build_object('status', 'bad_emoji'); end if;
  if p_add then
    if m.deleted_at is not null then return jsonb_build_object('status', 'deleted'); end if;
    insert into message_reactions (message_id, user_id, emoji) values (p_id, p_user, p_emoji) on conflict do nothing;
    get diagnostics changed = row_count;
    -- Checked after the insert, so two concurrent adds cannot both slip under the bound.
    if changed > 0 and (select count(*) from message_reactions where message_id = p_id and user_id = p_user)
                       > mqchat_max_reactions_per_user() then
      delete from message_reactions where message_id = p_id and user_id = p_user and emoji = p_emoji;
      return jsonb_build_object('status', 'too_many');
    end if;
  else
    delete from message_reactions where message_id = p_id and user_id = p_user and emoji = p_emoji;
    get diagnostics changed = row_count;
  end if;
  if changed = 0 then return jsonb_build_object('status', 'ok', 'changed', false); end if;
  -- Summaries show the last message's reactions: they are published again when it changes.
  perform pg_notify('mqchat_rooms', c.room) from conversations c where c.id = conv and c.last_message_id = p_id;
  return jsonb_build_object('status', 'ok', 'changed', true, 'event', jsonb_build_object(
    'event', 'reaction', 'id', p_id, 'user', (select username from profiles where id = p_user), 'emoji', p_emoji,
    'action', case when p_add then 'added' else 'removed' end, 'reactions', mqchat_reaction_counts(p_id)));
end;
$$;

-- The bridge's entry point: requester by name, room checked.
create or replace function mqchat_react(p_room text, p_user text, p_id uuid, p_emoji text, p_add boolean)
returns jsonb
language plpgsql as $$
declare
  c conversations := mqchat_room_for(p_room, p_user);
begin
  if c.id is null then return jsonb_build_object('status', 'not_found'); end if;
  return mqchat_react_core(c.id, mqchat_profile_id(p_user), p_id, p_emoji, p_add);
end;
$$;

-- The SQL API. Both return the message's reactions as the caller sees them ([] when none) and
-- publish the room's event when something changed. Errors: 42501 (DETAIL not_found) not a message
-- of yours, 23514 (DETAIL bad_emoji / too_many), 55000 (DETAIL deleted) reacting to a deleted message.
create or replace function mqchat_react_as_caller(p_id uuid, p_emoji text, p_add boolean) returns jsonb
language plpgsql as $$
declare
  me uuid := mqchat_current_user_id();
  c  conversations := mqchat_conversation_of(p_id, me);
  r  jsonb := mqchat_react_core(c.id, me, p_id, p_emoji, p_add);
begin
  case r->>'status'
    when 'bad_emoji' then
      raise exception 'not an emoji: %', p_emoji using errcode = '23514', detail = 'bad_emoji';
    when 'too_many' then
      raise exception 'at most % reactions per user on a message', mqchat_max_reactions_per_user()
        using errcode = '23514', detail = 'too_many';
    when 'deleted' then
      raise exception 'message % was deleted', p_id using errcode = '55000', detail = 'deleted';
    else null;
  end case;
  if (r->>'changed')::boolean then
    perform mqchat_outbox_add(c.room, 'events', null, r->'event');
  end if;
  return coalesce(mqchat_reactions_json(p_id, me), '[]'::jsonb);
end;
$$;

create or replace function add_reaction(message_id uuid, emoji text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_react_as_caller(message_id, emoji, true)
$$;

create or replace function remove_reaction(message_id uuid, emoji text) returns jsonb
language sql security definer set search_path = public, pg_temp as $$
  select mqchat_react_as_caller(message_id, emoji, false)
$$;

-- The app role reads the reactions of messages it can read (messages' policy applies inside),
-- and writes them only through the functions above.
alter table message_reactions enable row level security;
revoke all on message_reactions from mqchat_app;
grant select on message_reactions to mqchat_app;
drop policy if exists reactions_of_visible_messages on message_reactions;
create policy reactions_of_visible_messages on message_reactions for select to mqchat_app
  using (exists (select 1 from messages m where m.id = message_id));

revoke all on function mqchat_is_emoji(text), mqchat_max_reactions_per_user(), mqchat_reaction_counts(uuid),
  mqchat_reactions_json(uuid, uuid), mqchat_message_view_json(messages, text, text, uuid),
  mqchat_history_view_json(messages, text, text, uuid, uuid),
  mqchat_react_core(uuid, uuid, uuid, text, boolean),
  mqchat_react(text, text, uuid, text, boolean), mqchat_react_as_caller(uuid, text, boolean),
  add_reaction(uuid, text), remove_reaction(uuid, text)
  from public, mqchat_app;
grant execute on function add_reaction(uuid, text), remove_reaction(uuid, text) to mqchat_app;
