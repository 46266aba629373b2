-- A message's conversation and sender checked once per statement, not once per row (issue 14:
-- Postgres CPU per persisted message).
--
-- Postgres 15 checks a foreign key with one query per inserted row, executor started and ended:
-- for messages' two (conversation_id, sender_id) that was 69k of the 352k instructions a row
-- costs in a 100-row shipper batch, staging included. With the triggers below instead:
-- bench/insert_instructions.sh 10 100: 613.7k -> 572.7k per row at 10-row batches, 351.7k -> 288.6k
-- at 100 (docs/PERFORMANCE-LOG.md, session 15). The same rules, kept by triggers that look at all of a
-- statement's rows at once:
--   - a new or moved message's conversation and sender exist: 23503 otherwise, under the foreign
--     keys' names and with their words, so every caller (the shipper sets such rows aside in
--     ingest_rejects, the SQL API reports them) sees what it saw before. They are locked FOR KEY
--     SHARE until the transaction ends, as the foreign-key check locks them: a concurrent delete
--     waits for the insert, then finds (and deletes) its messages; an insert that waited for a
--     delete finds no conversation and fails;
--   - deleting a conversation or a profile deletes its messages (ON DELETE CASCADE);
--   - a conversation's or profile's id cannot change while messages refer to it (NO ACTION);
--   - TRUNCATE ... CASCADE of conversations or profiles empties messages too, as it did.
-- The reply constraint (030: the target is in the same conversation) stayed a foreign key here;
-- 065 replaced it the same way.

alter table messages drop constraint if exists messages_conversation_id_fkey;
alter table messages drop constraint if exists messages_sender_id_fkey;

-- Locks the conversations and senders named (each once) and raises 23503 if one is missing.
-- Security definer: locking needs the owner's rights and must see past row-level security, as a
-- foreign key's check does.
create or replace function mqchat_message_references_check(convs uuid[], senders uuid[]) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  locked integer;
  missing uuid;
begin
  perform 1 from conversations c where c.id = any (convs) for key share of c;
  get diagnostics locked = row_count;
  if locked < cardinality(convs) then
    select x into missing from unnest(convs) x where not exists (select 1 from conversations c where c.id = x) limit 1;
    raise exception 'insert or update on table "messages" violates foreign key constraint "messages_conversation_id_fkey"'
      using errcode = 'foreign_key_violation', constraint = 'messages_conversation_id_fkey', table = 'messages',
            detail = format('Key (conversation_id)=(%s) is not present in table "conversations".', missing);
  end if;
  perform 1 from profiles p where p.id = any (senders) for key share of p;
  get diagnostics locked = row_count;
  if locked < cardinality(senders) then
    select x into missing from unnest(senders) x where not exists (select 1 from profiles p where p.id = x) limit 1;
    raise exception 'insert or update on table "messages" violates foreign key constraint "messages_sender_id_fkey"'
      using errcode = 'foreign_key_violation', constraint = 'messages_sender_id_fkey', table = 'messages',
            detail = format('Key (sender_id)=(%s) is not present in table "profiles".', missing);
  end if;
end;
$$;

create or replace function mqchat_messages_references_inserted() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_message_references_check(array(select distinct n.conversation_id from new_messages n),
                                          array(select distinct n.sender_id from new_messages n));
  return null;
end;
$$;

create or replace function mqchat_messages_references_moved() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform mqchat_message_references_check(array[new.conversation_id], array[new.sender_id]);
  return null;
end;
$$;

drop trigger if exists messages_references_inserted on messages;
create trigger messages_references_inserted after insert on messages
  referencing new table as new_messages for each statement execute function mqchat_messages_references_inserted();
drop trigger if exists messages_references_moved on messages;
create trigger messages_references_moved after update on messages for each row
  when (old.conversation_id is distinct from new.conversation_id or old.sender_id is distinct from new.sender_id)
  execute function mqchat_messages_references_moved();

-- 011's fan-out row trigger runs before the statement's check: a message without a conversation
-- has no room to queue, and must fail with the check's 23503, not the outbox's not-null error.
create or replace function mqchat_queue_sql_message() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  r text := (select c.room from conversations c where c.id = new.conversation_id);
begin
  if r is not null then
    perform mqchat_outbox_add(r, 'messages', new.id, null);
  end if;
  return null;
end;
$$;

-- The referenced side. TG_ARGV[0] names the messages column that refers to the table.
create or replace function mqchat_message_owner_deleted() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_argv[0] = 'conversation_id' then
    delete from messages m using gone g where m.conversation_id = g.id;
  else
    delete from messages m using gone g where m.sender_id = g.id;
  end if;
  return null;
end;
$$;

create or replace function mqchat_message_owner_rekeyed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if (tg_argv[0] = 'conversation_id' and exists (select 1 from messages m where m.conversation_id = old.id))
     or (tg_argv[0] = 'sender_id' and exists (select 1 from messages m where m.sender_id = old.id)) then
    raise exception 'update or delete on table "%" violates foreign key constraint "messages_%_fkey" on table "messages"',
                    tg_table_name, tg_argv[0]
      using errcode = 'foreign_key_violation', constraint = format('messages_%s_fkey', tg_argv[0]),
            table = tg_table_name,
            detail = format('Key (id)=(%s) is still referenced from table "messages".', old.id);
  end if;
  return null;
end;
$$;

-- TRUNCATE conversations/profiles CASCADE reached messages through the foreign keys. When messages
-- is in the same command it is already empty here (and still open, so it could not be truncated
-- again).
create or replace function mqchat_message_owner_truncated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if exists (select 1 from messages) then
    truncate messages cascade;
  end if;
  return null;
end;
$$;

drop trigger if exists conversations_messages_deleted on conversations;
create trigger conversations_messages_deleted after delete on conversations referencing old table as gone
  for each statement execute function mqchat_message_owner_deleted('conversation_id');
drop trigger if exists profiles_messages_deleted on profiles;
create trigger profiles_messages_deleted after delete on profiles referencing old table as gone
  for each statement execute function mqchat_message_owner_deleted('sender_id');
drop trigger if exists conversations_messages_rekeyed on conversations;
create trigger conversations_messages_rekeyed after update on conversations for each row
  when (old.id is distinct from new.id) execute function mqchat_message_owner_rekeyed('conversation_id');
drop trigger if exists profiles_messages_rekeyed on profiles;
create trigger profiles_messages_rekeyed after update on profiles for each row
  when (old.id is distinct from new.id) execute function mqchat_message_owner_rekeyed('sender_id');
drop trigger if exists conversations_messages_truncated on conversations;
create trigger conversations_messages_truncated after truncate on conversations
  for each statement execute function mqchat_message_owner_truncated();
drop trigger if exists profiles_messages_truncated on profiles;
create trigger profiles_messages_truncated after truncate on profiles
  for each statement execute function mqchat_message_owner_truncated();

revoke all on function mqchat_message_references_check(uuid[], uuid[]), mqchat_messages_references_inserted(),
  mqchat_messages_references_moved(), mqchat_message_owner_deleted(), mqchat_message_owner_rekeyed(),
  mqchat_message_owner_truncated() from public;
