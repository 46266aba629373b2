-- Search through one index key per (conversation, word) (issue 17: p99 <= 50 ms at 10M messages).
--
-- 032/050 indexed (conversation, words) with btree_gin and probed it once per conversation of the
-- requester. A user in ~450 conversations paid ~450 probes, and a common word's probes each walked
-- that conversation's newest hits: p99 414 ms at 10M messages. Here every message is indexed under
-- "<conversation tag><word>" keys, so a search is one GIN scan whose keys are the requester's
-- conversations times the query's words, and it reads only postings that are the requester's own:
-- its cost follows the requester's hits, not the table, the word's frequency elsewhere or the
-- number of conversations. (A word so common that the requester has thousands of hits is better
-- found newest first through time windows: see mqchat_search_hits.) The tag is the conversation
-- id's last 12 hex digits (48 random bits in v4, v5 and v7 ids); two conversations sharing a tag
-- only add candidates, and every candidate is checked against the real conversation list and
-- tsquery, so results never depend on the tag.
--
-- The price: about one index entry per (conversation, word) instead of one per word, so the index
-- is larger and each insert touches more of it (docs/PERFORMANCE.md, "Search", has the figures).
-- On a large existing table, build it first with CREATE INDEX CONCURRENTLY (same name and
-- expression) so that this migration finds it and writes are not blocked meanwhile.
--
-- (061 rewrites the key function in PL/pgSQL with the same body, and turns GIN's pending list back on
-- at 64 kB, emptied by every shipper batch: cheaper inserts, the same keys and searches.)
-- The key function (and the tag it uses) is IMMUTABLE SQL over built-in functions only, so a search
-- uses the index by writing the same expression and builds its keys with the same tag. Postgres
-- does not inline it (array_to_string is only STABLE): each insert calls it as a SQL function,
-- ~2.6 us per row (pg_stat_statements, track = all; docs/PERFORMANCE-LOG.md). (An earlier version of
-- this comment said it was inlined; nothing else changed.)
create or replace function mqchat_search_tag(conv uuid) returns text
language sql immutable parallel safe as $$ select right(conv::text, 12) $$;
create or replace function mqchat_search_keys(conv uuid, words tsvector) returns text[]
language sql immutable parallel safe as $$
  select case when words = ''::tsvector then '{}'::text[]
              else string_to_array(mqchat_search_tag(conv)
                                   || array_to_string(tsvector_to_array(words), E'\x01' || mqchat_search_tag(conv)),
                                   E'\x01') end
$$;
-- (Lexemes of the default parser are runs of letters, digits and URL characters, never \x01.)

-- fastupdate off: GIN's pending list would hold up to 4 MB of recent entries that every search
-- reads in full, for each of its keys (545 ms instead of 30 for one search at 10M messages, measured);
-- without it each insert costs about 11 % more (bench/search_insert_cost.sql: 137 µs instead of 123).
create index if not exists messages_search_keys on messages
  using gin (mqchat_search_keys(conversation_id, search_words)) with (fastupdate = off);
alter index messages_search_keys set (fastupdate = off);
drop index if exists messages_search;

-- The id of the first UUIDv7 of millisecond `ms`, and the millisecond of a UUIDv7 (message ids are
-- UUIDv7: ordered by time).
create or replace function mqchat_uuid_at_ms(ms bigint) returns uuid
language sql immutable strict as $$
  select (lpad(to_hex(greatest(ms, 0)), 12, '0') || '70008000000000000000')::uuid
$$;
create or replace function mqchat_uuid_ms(id uuid) returns bigint
language sql immutable strict as $$
  select ('x' || lpad(left(replace(id::text, '-', ''), 12), 16, '0'))::bit(64)::bigint
$$;

-- How common matches of `p_words` are, from the statistics ANALYZE keeps of the words column: the
-- share of messages holding each word, multiplied for AND (as if independent), added for OR; a word
-- not among the commonest counts as half the rarest of them; no statistics yet: 0.
create or replace function mqchat_words_frequency(p_words text[], p_any boolean) returns float8
language sql stable security definer set search_path = public, pg_temp as $$
  with s as (select most_common_elems::text::text[] as e, most_common_elem_freqs as f from pg_stats
              where schemaname = 'public' and tablename = 'messages' and attname = 'search_words'),
       w as (select coalesce(s.f[array_position(s.e, x)], s.f[cardinality(s.e) + 1] / 2) as fr
               from unnest(p_words) x, s)
  select coalesce(case when p_any then least(1, sum(fr)) else exp(sum(ln(greatest(fr, 1e-12)))) end, 0) from w
$$;

-- Up to `p_limit` + 1 hit ids in `p_convs`, newest first (the +1 says whether there is a next page).
--
-- Two ways, chosen by how common the query's matches are (mqchat_words_frequency):
-- - Uncommon (under 2 % of messages): the index. The words of `q` a hit must contain become one
--   `&&` condition each (the keys of that word in every conversation), so GIN intersects them;
--   with OR, one condition with all its words' keys (each hit contains at least one). Candidates
--   are checked against the conversations, paging and the tsquery; the newest win. Its cost follows
--   the requester's hits, so past `probe` of them it gives way to the other.
-- - Common (and a query with nothing to look up: only negations): back in time through the
--   requester's conversations' messages ((conversation, id) index), in windows from their newest
--   message: 1 minute, then sized from the hits found so far, until the windows hold a page.
--   Everything newer than the last window has then been looked at, so the page is exact.
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
  cid uuid;
  start_ms bigint;
  lo_ms bigint;
  width bigint := 60000;
  share float8 := 1;    -- the estimated share of messages that match
  n bigint;
  looked bigint := 0;  -- messages looked at in the windows
  rate float8;
  walk float8;   -- how many of the table's newest messages to read first
  oldest uuid;
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

  -- When the requester's conversations hold a good share of all messages (estimated from their
  -- number), the page is likely among the newest few thousand messages of the whole table: read
  -- those newest first through the primary key (recent rows are together at the table's end, so
  -- this is cheap per row); the windows below go on from where this stopped.
  walk := greatest(1000, 2 * (p_limit + 1)
                         * (select greatest(c.reltuples, 1) from pg_class c where c.oid = 'conversations'::regclass)
                         / cardinality(p_convs) / greatest(share, 0.001));
  walk := coalesce(nullif(current_setting('mqchat.search_walk', true), '')::float8, walk);  -- for tests
  if walk > 0 and walk < 40000 then
    execute $q$
      with newest as (select m.id, m.conversation_id, m.search_words, m.deleted_at from messages m
                       where $3::uuid is null or m.id < $3 order by m.id desc limit $4)
      select coalesce(array_agg(id) filter (where conversation_id = any($1) and search_words @@ $2
                                              and deleted_at is null), '{}'),
             (select id from newest order by id limit 1), count(*)
        from newest
    $q$ into found, oldest, n using p_convs, q, p_before, walk::int;
    if cardinality(found) > p_limit or n < walk then
      return array(select i from unnest(found) i order by i desc limit p_limit + 1);
    end if;
    p_before := oldest;  -- the windows go on below what was read
  end if;

  -- Each conversation's newest message bounds what a window can find in it (ingest keeps it).
  select array_agg(c.id), array_agg(c.last_message_id), max(c.last_message_id::text)::uuid into convs, lasts, hi
    from conversations c where c.id = any(p_convs);
  start_ms := coalesce(mqchat_uuid_ms(least(hi, p_before)), (extract(epoch from clock_timestamp()) * 1000)::bigint) + 1;
  lo_ms := start_ms;
  hi := p_before;
  loop
    lo_ms := lo_ms - width;
    lo := case when lo_ms > 0 then mqchat_uuid_at_ms(lo_ms) end;
    -- One range scan per conversation that can hold messages this old (a single query over all of
    -- them may be planned as a walk of the whole table's window by id).
    foreach cid in array array(select x.c from unnest(convs, lasts) x(c, l)
                                where lo is null or x.l is null or x.l >= lo) loop
      select count(*), coalesce(array_agg(m.id) filter (where m.search_words @@ q and m.deleted_at is null), '{}')
        into n, ids
        from messages m
       where m.conversation_id = cid and m.id >= coalesce(lo, '00000000-0000-0000-0000-000000000000')
         and m.id < coalesce(hi, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
      found := found || ids;
      looked := looked + n;
    end loop;
    exit when cardinality(found) > p_limit or lo_ms <= 0;
    hi := lo;
    -- The next window holds, by the messages per millisecond seen so far and the share of them that
    -- match (the hits so far, or the statistics' estimate when higher), the rest of the page and
    -- half again: within 1 minute and 32 times what was looked at; with nothing to go by, 8 times.
    rate := case when looked > 0 then greatest(cardinality(found)::float8 / looked, share) else 0 end;
    width := case when rate = 0 then (start_ms - lo_ms) * 7
                  else least((start_ms - lo_ms) * 32, greatest(60000,
                         ((p_limit + 1 - cardinality(found)) * 1.5 * (start_ms - lo_ms) / (looked * rate))::bigint))
             end;
  end loop;
  return array(select i from unnest(found) i order by i desc limit p_limit + 1);
end;
$$;

-- One page of `p_user`'s search (032's contract): the hits come from mqchat_search_hits over every
-- conversation at once, so 050's "most recently active conversations first" steps are gone.
create or replace function mqchat_search_core(p_user uuid, p_query text, p_conv uuid, p_before uuid, p_limit int)
returns jsonb
language plpgsql stable as $$
declare
  q tsquery;
  convs uuid[];
  ids uuid[];
  page jsonb;
begin
  if p_query is null or p_query !~ '\S' or char_length(p_query) > 256 then
    return jsonb_build_object('status', 'bad_request', 'reason', 'the query must have 1..256 characters, not blank');
  end if;
  if p_limit is null or p_limit < 1 or p_limit > mqchat_search_max_limit() then
    return jsonb_build_object('status', 'bad_request',
                              'reason', 'the limit must be from 1 to ' || mqchat_search_max_limit());
  end if;
  q := websearch_to_tsquery('simple', p_query);
  convs := mqchat_user_conversation_ids(p_user);
  if p_conv is not null then
    convs := case when p_conv = any(convs) then array[p_conv] else '{}' end;
  end if;
  if numnode(q) = 0 or cardinality(convs) = 0 then
    return jsonb_build_object('status', 'ok', 'results', '[]'::jsonb, 'next', null);
  end if;
  ids := mqchat_search_hits(convs, q, p_before, p_limit);
  select jsonb_agg(mqchat_message_view_json(h, c.room, s.username, p_user)
                   || jsonb_build_object('headline', mqchat_headline(h.content, q))
                   order by h.id desc)
    into page
    from messages h join conversations c on c.id = h.conversation_id join profiles s on s.id = h.sender_id
   where h.id = any(ids[1:p_limit]);
  return jsonb_build_object('status', 'ok', 'results', coalesce(page, '[]'::jsonb),
                            'next', case when cardinality(ids) > p_limit then ids[p_limit]::text end);
end;
$$;
drop function if exists mqchat_search_recent_first();

-- mqchat_search_keys and mqchat_search_tag stay executable by everyone: inserts by any role evaluate
-- the index expression.
revoke all on function mqchat_search_hits(uuid[], tsquery, uuid, int), mqchat_uuid_at_ms(bigint), mqchat_uuid_ms(uuid),
  mqchat_words_frequency(text[], boolean),
  mqchat_search_core(uuid, text, uuid, uuid, int)
  from public, mqchat_app;
