-- The text keys of two indexes compared byte by byte (issue 14: Postgres CPU per persisted message).
--
-- A text index compares its keys in the column's collation: the database's default, C.UTF-8 in
-- the project's own cluster, often en_US.UTF-8 elsewhere. For anything but "C" each comparison goes
-- through strcoll(). Inserting a message compares ~57 search keys (conversation tag + word) in the
-- search index and a few client_ids in the dedup index: ~22k of the ~285k instructions a row costs
-- in a 100-row shipper batch on C.UTF-8, half of it strcoll's (more with a costlier locale). Both
-- indexes only ever test keys for equality (GIN's && and the uniqueness of a client_id), and
-- equality is the same in every deterministic collation, so their order can be the bytes': same
-- keys, same answers, no strcoll. bench/insert_instructions.sh 10 100 (C.UTF-8): 570.0k -> 561.5k
-- per row at 10-row batches, 284.9k -> 274.6k at 100; on a database whose collation is ICU's
-- en-US: 586.8k -> 561.5k and 307.4k -> 274.4k (docs/PERFORMANCE-LOG.md, session 16).
--
-- Building the indexes again reads every message once, inside this migration's transaction.

-- The search index: the same expression, its keys in "C". A query matches it only when its && is
-- compared in "C" too, so 052's search statement says so (patched from its current definition, as
-- 040 did, so that only that clause changes).
drop index if exists messages_search_keys;
create index messages_search_keys on messages
  using gin ((mqchat_search_keys(conversation_id, search_words)) collate "C")
  with (fastupdate = on, gin_pending_list_limit = 64);

do $$
declare
  def text := pg_get_functiondef('mqchat_search_hits(uuid[], tsquery, uuid, int)'::regprocedure);
  patched text := replace(def, 'mqchat_search_keys(m.conversation_id, m.search_words) && $5[',
                               'mqchat_search_keys(m.conversation_id, m.search_words) collate "C" && $5[');
begin
  if patched = def then
    raise exception '064: mqchat_search_hits has no "mqchat_search_keys(...) && $5[" condition to compare in "C"';
  end if;
  execute patched;
end;
$$;

-- The dedup index of MQTT messages (040): ON CONFLICT DO NOTHING without a target uses every unique
-- index whatever its collation, and nothing looks client_ids up through it.
drop index if exists messages_client_id_once;
create unique index messages_client_id_once on messages (conversation_id, sender_id, client_id collate "C")
  where client_id is not null and origin = 'mqtt';
