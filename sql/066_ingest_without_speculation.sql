-- The shipper's merge inserts a batch without ON CONFLICT, and only a batch that collides goes the
-- ON CONFLICT way (issue 14: Postgres CPU per persisted message).
--
-- ON CONFLICT DO NOTHING makes every row a speculative insertion: each unique index of messages is
-- searched before the row is written, the row carries a speculative token that is confirmed after
-- its index entries, and those entries are checked for uniqueness again as they go in. For a batch
-- that collides with nothing, which is every batch but a replay after a crash or a message a
-- client sent through two nodes (040), that is ~33k of the ~275k instructions a row costs.
-- A plain insert checks the same unique indexes as it writes them: when it hits a row that exists
-- (23505), the statement is undone and the batch merged again the old way, which skips that row and
-- keeps the rest. Concurrent merges of the same message stay safe: the second insert waits for
-- the first transaction, then fails with 23505 and skips the row on the second pass.
-- bench/insert_instructions.sh 10 100 (after 064, before 065): 561.5k -> 530.6k per row at 10-row
-- batches, 274.6k -> 243.0k at 100; without the fallback block at all it would be 529.6k and
-- 241.3k, so the block's subtransaction costs ~1-2k per row (docs/PERFORMANCE-LOG.md, session 16).
-- The subtransaction's insert takes a transaction id of its own: a batch uses two, not one, which
-- brings anti-wraparound vacuum twice as often (every ~12 days at 100 batches/s with the defaults).
create or replace function mqchat_ingest_staged() returns integer
language plpgsql as $$
declare
  inserted integer;
begin
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
      from pg_temp.mqchat_ingest_stage s;
    get diagnostics inserted = row_count;
  exception when unique_violation then
    -- A replay, or a message already stored through another node: the same rows, skipping those.
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
  end;

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
