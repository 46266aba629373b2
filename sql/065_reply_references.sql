-- A reply's target checked once per statement, not once per row, and (conversation_id, id) no
-- longer unique (issue 14: Postgres CPU per persisted message).
--
-- 030's reply constraint was a foreign key from messages (conversation_id, reply_to) to messages
-- (conversation_id, id), and a foreign key needs a unique constraint on the columns it references:
-- `messages_conversation_message` made (conversation_id, id) unique although id alone is the
-- primary key. Every insert paid for that second unique index: a uniqueness check on insert, and
-- one more arbiter index to pre-check under the shipper's ON CONFLICT DO NOTHING. With the key
-- replaced by the triggers below, the index keyset paging uses (conversation_id, id) is a plain
-- btree again, as 001 made it.
-- bench/insert_instructions.sh 10 100 (after 064, before 066): 561.5k -> 546.4k per row at 10-row
-- batches, 274.5k -> 260.5k at 100 (docs/PERFORMANCE-LOG.md, session 16).
--
-- The same rules, kept by triggers, for every writer (the owner, the app role under row-level
-- security, the shipper's merge, COPY):
--   - a new message with reply_to not null answers a message of its own conversation: 23503
--     otherwise, under the foreign key's name and with its words. The check runs once per
--     statement, in 062's trigger, over the rows with reply_to only: a batch that answers nothing
--     pays for it no more than reading reply_to in the scan 062 makes anyway. A target inserted by
--     the same statement counts (the ingest allows an answer to an earlier message of its batch),
--     as it did for the key, whose check ran at the end of the statement too. Targets are locked
--     FOR KEY SHARE until the transaction ends, as the key's check locked them: a concurrent
--     delete of a target waits for the reply, then nulls its reply_to; a reply that waited for the
--     delete of its target finds none and fails;
--   - an update that gives a message another target, or moves a message that answers one into
--     another conversation, is checked the same way (edits of other columns are not);
--   - deleting messages nulls reply_to in the replies to them (ON DELETE SET NULL (reply_to)): one
--     update per deleting statement, through messages_reply_to (030);
--   - a message's id or conversation cannot change while replies refer to it (NO ACTION);
--   - TRUNCATE: the key referred to messages itself, which never stood in the way of emptying it;
--     nothing to do.
-- The error's detail always names the key's values, as 062's do: they are the ones the statement
-- wrote. (A foreign key leaves them out when row-level security applies to the user.)

-- The plain index first, so that inside this transaction the table is never without one on
-- (conversation_id, id); the key goes before the unique constraint it depends on.
create index if not exists messages_conversation_id on messages (conversation_id, id);
alter table messages drop constraint if exists messages_reply_same_conversation;
alter table messages drop constraint if exists messages_conversation_message;

-- Locks the targets named (message targets[i] in conversation convs[i], in statement order) and
-- raises 23503 for the first one missing. Security definer: locking needs the owner's rights and
-- must see past row-level security, as a foreign key's check does.
create or replace function mqchat_reply_targets_check(convs uuid[], targets uuid[]) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  locked integer;
  conv uuid;
  target uuid;
begin
  loop
    perform 1 from messages t where (t.conversation_id, t.id) in (select * from unnest(convs, targets))
      for key share of t;
    get diagnostics locked = row_count;
    -- Each target is one message: all are there when as many are locked as distinct pairs named.
    if locked = cardinality(convs) then
      return;
    end if;
    if locked = (select count(*) from (select distinct * from unnest(convs, targets)) d) then
      return;
    end if;
    select x.c, x.t into conv, target
      from unnest(convs, targets) with ordinality x(c, t, i)
     where not exists (select 1 from messages m where m.id = x.t and m.conversation_id = x.c)
     order by x.i limit 1;
    if found then
      raise exception 'insert or update on table "messages" violates foreign key constraint "messages_reply_same_conversation"'
        using errcode = 'foreign_key_violation', constraint = 'messages_reply_same_conversation',
              schema = 'public', table = 'messages',
              detail = format('Key (conversation_id, reply_to)=(%s, %s) is not present in table "messages".',
                              conv, target);
    end if;
    -- None is missing now: a target was committed since it was looked for. Lock again.
  end loop;
end;
$$;

-- New messages: 062's statement trigger checks their targets too, reading the statement's rows
-- once for everything it checks instead of once for each of its two columns. A trigger of its own
-- cost 4.1k instructions per row in 10-row batches and 1.1k in 100-row ones, most of it the call
-- itself; this way a batch that answers nothing pays nothing for replies, and 062's check a little
-- less than before.
create or replace function mqchat_messages_references_inserted() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  convs uuid[];
  senders uuid[];
  reply_convs uuid[];  -- the replies' conversations and targets, pair by pair (one scan feeds both)
  targets uuid[];
begin
  select coalesce(array_agg(distinct n.conversation_id), '{}'), coalesce(array_agg(distinct n.sender_id), '{}'),
         array_agg(n.conversation_id) filter (where n.reply_to is not null),
         array_agg(n.reply_to) filter (where n.reply_to is not null)
    into convs, senders, reply_convs, targets
    from new_messages n;
  perform mqchat_message_references_check(convs, senders);
  if targets is not null then
    perform mqchat_reply_targets_check(reply_convs, targets);
  end if;
  return null;
end;
$$;

create or replace function mqchat_messages_reply_moved() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_reply_targets_check(array[new.conversation_id], array[new.reply_to]);
  return null;
end;
$$;

-- Named after 062's, so it runs after it, as the key's check ran after the other two.
drop trigger if exists messages_reply_targets_moved on messages;
create trigger messages_reply_targets_moved after update on messages for each row
  when (new.reply_to is not null and (old.reply_to is distinct from new.reply_to
                                      or old.conversation_id is distinct from new.conversation_id))
  execute function mqchat_messages_reply_moved();

-- The referenced side. A delete nulls the replies to the deleted messages (the replies deleted by
-- the same statement are gone already).
create or replace function mqchat_reply_targets_deleted() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update messages m set reply_to = null
    from gone g
   where m.reply_to = g.id and m.conversation_id = g.conversation_id;
  return null;
end;
$$;

-- A message's key (conversation_id, id) changed: refused while replies refer to the old key, unless
-- another message has it now (NO ACTION, checked at the end of the statement as the key did).
create or replace function mqchat_reply_target_rekeyed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if exists (select 1 from messages m where m.reply_to = old.id and m.conversation_id = old.conversation_id)
     and not exists (select 1 from messages t where t.id = old.id and t.conversation_id = old.conversation_id) then
    raise exception 'update or delete on table "messages" violates foreign key constraint "messages_reply_same_conversation" on table "messages"'
      using errcode = 'foreign_key_violation', constraint = 'messages_reply_same_conversation',
            schema = 'public', table = 'messages',
            detail = format('Key (conversation_id, id)=(%s, %s) is still referenced from table "messages".',
                            old.conversation_id, old.id);
  end if;
  return null;
end;
$$;

drop trigger if exists messages_reply_targets_deleted on messages;
create trigger messages_reply_targets_deleted after delete on messages referencing old table as gone
  for each statement execute function mqchat_reply_targets_deleted();
drop trigger if exists messages_reply_targets_rekeyed on messages;
create trigger messages_reply_targets_rekeyed after update on messages for each row
  when (old.id is distinct from new.id or old.conversation_id is distinct from new.conversation_id)
  execute function mqchat_reply_target_rekeyed();

revoke all on function mqchat_reply_targets_check(uuid[], uuid[]),
  mqchat_messages_references_inserted(), mqchat_messages_reply_moved(), mqchat_reply_targets_deleted(),
  mqchat_reply_target_rekeyed() from public;
