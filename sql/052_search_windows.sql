-- Search for common words: one statement per time window, and a first window that fits the page
-- (issue 17: search p99 <= 50 ms at 10M messages; 051 missed it for common words, p99 46-68 ms).
--
-- 051 read a common word's page in time windows going back from the requester's newest message,
-- each window one range scan of the (conversation, id) index per conversation active in it, issued
-- one PL/pgSQL statement at a time: ~450 statements for a user in 450 conversations, at ~70 µs each.
-- Its first windows were 1 and 32 minutes whatever the word, so a page usually took three or four
-- windows, the last ones reaching most conversations again. Here:
-- - a window is one statement (a nested loop of the same range scans, ~20 µs each when cached);
-- - the first window is sized from an estimate of the requester's hits per millisecond (the word's
--   share from the column statistics times their conversations' share of all messages, spread over
--   the table's time span), so a page usually takes one window; later windows still size themselves
--   from what was found, so a wrong estimate costs a window, never a result;
-- - no window reaches below the table's oldest message (a `before` older than every message used to
--   widen windows until the year 1970);
-- - the walk of the table's newest messages runs only when it is under 10 rows per conversation of
--   the requester (it read up to 40,000 rows for a user holding 0.45 % of all messages).
-- Results are the same as 051's: tests/sql/search_pages_test.sql compares every page with brute force.
create or replace function mqchat_search_hits(p_convs uuid[], q tsquery, p_before uuid, p_limit int)
returns uuid[]
language plpgsql stable set enable_seqscan = off set jit = off set max_parallel_workers_per_gather = 0 as $$
declare
  -- At most this many hits from the index. The setting is for tests, like mqchat.search_walk:
  -- when set, it alone decides whether the index is used (0: not), whatever the statistics say.
  probe_set int := nullif(current_setting('mqchat.search_probe', true), '')::int;
  probe int := coalesce(probe_set, 4000);
  tree text := querytree(q)::text;
  any_word boolean := tree ~ '[|]' or tree ~ '!\(';
  words text[];  -- what the index looks up: with OR every word, else the words every hit contains
  keys text[];   -- one row of keys per `&&` condition (2-D)
  conds text := '';
  ids uuid[];
  found uuid[] := '{}';
  convs uuid[];
  lasts uuid[];  -- their newest messages
  hi uuid;       -- the window: [lo, hi), null for no bound
  lo uuid;
  start_ms bigint;
  lo_ms bigint;
  width bigint := 60000;
  share float8 := 1;    -- the estimated share of messages that match
  n bigint;
  looked bigint := 0;  -- messages looked at in the windows
  rate float8;
  span float8;         -- milliseconds from the table's oldest message to the newest of the requester's
  hits_per_ms float8;
  all_convs float8;    -- conversations in the table, from the statistics
  oldest_ms bigint;    -- the table's oldest message: no window reaches further
  walk float8;   -- how many of the table's newest messages to read first
  walked_to uuid;     -- the oldest message the walk read
begin
  if tree <> 'T' then
    -- Lexemes are quoted in the tree ('it''s'); !'x' is a negated one. Matching whole quoted
    -- strings from the left keeps the scan aligned with them.
    select case when any_word then array_agg(distinct lexeme)
                else array_agg(distinct lexeme) filter (where not negated) end
      into words
      from (select w[1] = '!' as negated, replace(w[2], '''''', '''') as lexeme
              from regexp_matches(tree, '(!?)''((?:[^'']|'''')*)''', 'g') w) x;
    share := mqchat_words_frequency(words, any_word);
  end if;
  if tree <> 'T' and (share < 0.02 or probe_set is not null) and probe > 0 then
    keys := case when any_word then array[array(select mqchat_search_tag(c) || w from unnest(p_convs) c, unnest(words) w)]
                 else array(select array(select mqchat_search_tag(c) || w from unnest(p_convs) c) from unnest(words) w) end;
    for i in 1 .. array_length(keys, 1) loop
      conds := conds || format(' and mqchat_search_keys(m.conversation_id, m.search_words) && $5[%s:%s]', i, i);
    end loop;
    -- The keys alone choose the rows (OFFSET 0 keeps the conversation and paging checks out of the
    -- index choice: with them the planner would also read the (conversation, id) index, and with
    -- the keys' row estimate it could pick a sequential scan, which the function's SET forbids:
    -- Postgres estimates each key of && from the commonest keys, hundreds of times too many rows
    -- here, and that cost would also bring in JIT compilation and parallel workers).
    execute format($q$
      select coalesce(array_agg(id), '{}') from (
        select id from (
          select m.id, m.conversation_id from messages m
           where m.search_words @@ $2 and m.deleted_at is null %s
          offset 0) c
         where c.conversation_id = any($1) and ($3::uuid is null or c.id < $3)
         limit $4) x
    $q$, conds) into ids using p_convs, q, p_before, probe, keys;
    if cardinality(ids) < probe then
      return array(select i from unnest(ids) i order by i desc limit p_limit + 1);
    end if;
  end if;

  -- The requester's hits per millisecond, estimated: the share of messages that match, times their
  -- conversations' share of all messages (as if of average size), spread evenly since the table's
  -- oldest message.
  select array_agg(c.id), array_agg(c.last_message_id), max(c.last_message_id::text)::uuid into convs, lasts, hi
    from conversations c where c.id = any(p_convs);
  start_ms := coalesce(mqchat_uuid_ms(least(hi, p_before)), (extract(epoch from clock_timestamp()) * 1000)::bigint) + 1;
  oldest_ms := coalesce(mqchat_uuid_ms((select m.id from messages m order by m.id limit 1)), start_ms);
  span := greatest(start_ms - oldest_ms, 1);
  all_convs := (select greatest(t.reltuples, 1) from pg_class t where t.oid = 'conversations'::regclass);
  hits_per_ms := share * cardinality(p_convs)
                 * (select greatest(t.reltuples, 0) from pg_class t where t.oid = 'messages'::regclass) / all_convs / span;
  -- (The index gave up: there are at least `probe` hits.)
  if cardinality(ids) >= probe then hits_per_ms := greatest(hits_per_ms, probe::float8 / span); end if;

  -- When the requester's conversations hold a good share of all messages, the page is likely among
  -- the table's newest few thousand: read those newest first through the primary key, if that is
  -- under 10 rows per conversation of the requester (recent rows are together at the table's end:
  -- a row costs a tenth to a twentieth of a conversation's range scan below). The windows go on
  -- from where this stopped.
  walk := 2 * (p_limit + 1) * all_convs / cardinality(p_convs) / greatest(share, 0.001);
  walk := case when walk <= greatest(2000, 10 * cardinality(p_convs)) then greatest(walk, 1000) else 0 end;
  walk := coalesce(nullif(current_setting('mqchat.search_walk', true), '')::float8, walk);  -- for tests
  if walk > 0 then
    execute $q$
      with newest as (select m.id, m.conversation_id, m.search_words, m.deleted_at from messages m
                       where $3::uuid is null or m.id < $3 order by m.id desc limit $4)
      select coalesce(array_agg(id) filter (where conversation_id = any($1) and search_words @@ $2
                                              and deleted_at is null), '{}'),
             (select id from newest order by id limit 1), count(*)
        from newest
    $q$ into found, walked_to, n using p_convs, q, p_before, walk::int;
    if cardinality(found) > p_limit or n < walk then
      return array(select i from unnest(found) i order by i desc limit p_limit + 1);
    end if;
    p_before := walked_to;  -- the windows go on below what was read
    start_ms := mqchat_uuid_ms(walked_to);
  end if;

  -- Back in time in windows, each one range scan of the (conversation, id) index per conversation
  -- whose newest message is in or after it (ingest keeps conversations.last_message_id). The first
  -- window is sized to hold the page and half again at the estimated rate of hits; the next ones
  -- from the hits and messages actually found so far.
  width := case when hits_per_ms > 0 then least(greatest(60000, (1.5 * (p_limit + 1) / hits_per_ms)::bigint), span)
                else 60000 end;
  lo_ms := start_ms;
  hi := p_before;
  loop
    lo_ms := lo_ms - width;
    lo := case when lo_ms > oldest_ms then mqchat_uuid_at_ms(lo_ms) end;  -- null: down to the oldest
    -- One statement for all conversations: a nested loop of range scans. The bounds are written as
    -- row comparisons so that only the (conversation, id) index can serve them: Postgres cannot
    -- estimate a uuid range (a window of 57,000 rows was estimated at 1) and, given plain `id`
    -- bounds, walked the whole window through the primary key once per conversation.
    select count(*), coalesce(array_agg(m.id) filter (where m.search_words @@ q and m.deleted_at is null), '{}')
      into n, ids
      from unnest(convs, lasts) x(c, l)
      join messages m on m.conversation_id = x.c
                     and (m.conversation_id, m.id) >= (x.c, coalesce(lo, '00000000-0000-0000-0000-000000000000'))
                     and (m.conversation_id, m.id) < (x.c, coalesce(hi, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     where lo is null or x.l is null or x.l >= lo;
    found := found || ids;
    looked := looked + n;
    exit when cardinality(found) > p_limit or lo is null;
    hi := lo;
    -- The next window holds, by the messages per millisecond seen so far and the share of them that
    -- match (the hits so far, or the statistics' estimate when higher), the rest of the page and
    -- half again: within 32 times what was looked at; with nothing found yet, 8 times.
    rate := case when looked > 0 then greatest(cardinality(found)::float8 / looked, share) else 0 end;
    width := case when rate = 0 then (start_ms - lo_ms) * 7
                  else least((start_ms - lo_ms) * 32, greatest(60000,
                         ((p_limit + 1 - cardinality(found)) * 1.5 * (start_ms - lo_ms) / (looked * rate))::bigint))
             end;
  end loop;
  return array(select i from unnest(found) i order by i desc limit p_limit + 1);
end;
$$;


revoke all on function mqchat_search_hits(uuid[], tsquery, uuid, int) from public, mqchat_app;
