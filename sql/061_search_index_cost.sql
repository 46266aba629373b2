-- What the search index costs an insert (issue 14: Postgres CPU per persisted message), with the same
-- keys and the same searches as 051. Backend instructions per row under callgrind
-- (bench/insert_instructions.sh, 100-row batches, staging subtracted): 417k before, 300k with the
-- key function in PL/pgSQL (1) and the pending list (2); 10-row batches: 484k -> 463k. In the pinned
-- benchmark (bench/run compare, fresh databases, two runs each): Postgres CPU per message
-- 30.0/29.3 -> 25.5/25.2 us at (b)'s max rate, 34.6/32.6 -> 29.9/28.5 at half of it
-- (docs/PERFORMANCE-LOG.md, session 14).
--
-- 1. The key function in PL/pgSQL. Postgres cannot inline 051's SQL body (array_to_string is only
--    STABLE), so every insert ran it as a SQL function: an executor started and ended per row
--    (~36k instructions). PL/pgSQL evaluates the same expression through its cached plan (~16k).
--    Same body, same keys for every input: the index stays valid, and searches, which write
--    mqchat_search_keys(conversation_id, search_words), still match it.
create or replace function mqchat_search_keys(conv uuid, words tsvector) returns text[]
language plpgsql immutable parallel safe as $$
declare
  tag text := mqchat_search_tag(conv);
begin
  if words = ''::tsvector then
    return '{}'::text[];
  end if;
  return string_to_array(tag || array_to_string(tsvector_to_array(words), E'\x01' || tag), E'\x01');
end;
$$;

-- 2. GIN's pending list, small and emptied by every shipper batch. With fastupdate off (051) each
--    new row decoded and re-encoded the posting list of each of its (conversation, word) keys; with
--    a pending list the rows wait there and are merged into the index in bulk, a batch's rows per
--    key at once. 051 turned the list off because a search reads all of it for each of its keys: up
--    to 4 MB by default, 545 ms instead of 30 for one search. Here it never holds more than 64 kB,
--    the least Postgres allows, and the shipper moves it into the index at the end of each batch,
--    in the batch's transaction, so searches find it empty but while a batch is being merged. (Left
--    to fill up to 64 kB it would cost a little less per row, but searches at 1M messages took
--    2-6 ms longer with a full list, and the cost grows with the requester's conversations.) Rows
--    inserted one at a time (the SQL API, the JSON ingest path) wait in it until the next batch,
--    64 kB, or vacuum.
alter index messages_search_keys set (fastupdate = on, gin_pending_list_limit = 64);

-- Moving the pending list into the index needs the index's owner; the shipper may connect as
-- another role that can run the ingest functions. PL/pgSQL keeps the statement's plan for the
-- session (a SQL function here was planned at every call).
create or replace function mqchat_search_index_flush() returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  idx regclass := to_regclass('public.messages_search_keys');
begin
  if idx is not null then  -- an index dropped by hand must not fail every batch
    perform gin_clean_pending_list(idx);
  end if;
end;
$$;
revoke all on function mqchat_search_index_flush() from public;

-- 030's merge as 040 left it, and the flush at the end.
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
  on conflict do nothing;  -- 040's: the id, or the same client_id from another node
  get diagnostics inserted = row_count;

  perform mqchat_reply_ingested(s.id, s.reply_to) from pg_temp.mqchat_ingest_stage s where s.reply_to is not null;

  perform pg_notify('mqchat_rooms', c.room)
     from conversations c
    where c.id in (select distinct conversation_id from pg_temp.mqchat_ingest_stage);

  if inserted > 0 then
    perform mqchat_search_index_flush();
  end if;
  return inserted;
end;
$$;
