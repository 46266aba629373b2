-- A message is stored once per (conversation, sender, client_id) whichever node took it (issue 15).
-- Each node's plugin recognises a retry with the same client_id within its own dedup window
-- (plugin/dedup_cache.*), but a client that published on node A, lost the connection before its
-- PUBACK and published again on node B got two rows: two plugins, two ids, two spools. Here the
-- database decides: a unique index over messages that came through MQTT, and the shippers' merges
-- skip a row that collides with it (ON CONFLICT DO NOTHING with no target: the id or this index),
-- so the copy shipped second — from either node, in whichever order the spools drain — is dropped.
-- Concurrent merges of the two copies are safe: the index makes the second insert wait for the
-- first transaction and then skip.
--
-- Messages sent through the SQL API (origin 'sql') keep their semantics: a client_id there is
-- only echoed, never a key.

-- Rows stored twice before this migration keep their content; the later copies lose the client_id
-- (it only served to recognise retries), so the index can be built.
do $$
begin
  if to_regclass('public.messages_client_id_once') is null then
    update messages m set client_id = null
      from (select id, row_number() over (partition by conversation_id, sender_id, client_id order by id) as n
              from messages where client_id is not null and origin = 'mqtt') d
     where m.id = d.id and d.n > 1;
  end if;
end;
$$;

create unique index if not exists messages_client_id_once on messages (conversation_id, sender_id, client_id)
  where client_id is not null and origin = 'mqtt';

-- The merges of MQTT messages (the shipper's COPY path and its JSON fallback) skip rows that collide
-- with any unique index, not only on the id. Rewritten from their current definitions (whatever
-- earlier migrations made of them), so this migration changes only their conflict clause.
do $$
declare
  f record;
  def text;
  patched text;
  n int := 0;
begin
  for f in select p.oid, p.proname from pg_proc p join pg_namespace ns on ns.oid = p.pronamespace
            where ns.nspname = 'public' and p.proname in ('mqchat_ingest_staged', 'mqchat_ingest') loop
    def := pg_get_functiondef(f.oid);
    patched := regexp_replace(def, 'on\s+conflict\s*\(\s*id\s*\)\s*do\s+nothing', 'on conflict do nothing', 'gi');
    if patched = def then
      raise exception '040: % has no "on conflict (id) do nothing" to widen', f.proname;
    end if;
    execute patched;
    n := n + 1;
  end loop;
  if n <> 2 then
    raise exception '040: expected mqchat_ingest_staged() and mqchat_ingest(jsonb), found % function(s)', n;
  end if;
end;
$$;
