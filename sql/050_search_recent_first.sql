-- Search, newest first, in two steps (issue 17: p99 <= 50 ms at 10M messages).
--
-- A page of search results is the newest hits across the requester's conversations. Probing every
-- conversation (032) costs one index probe each, and for a common word each probe walks back
-- through its conversation's newest messages: a user with ~140 conversations paid that 140 times
-- (p99 152 ms at 1M messages). The hits of a common word are nearly all in the conversations that
-- were active last, so the search first looks only at the most recently active ones (by
-- conversations.last_message_id, which ingest keeps current). When it finds a full page there whose
-- oldest hit is newer than everything in the conversations it skipped (their newest message ids are
-- below that conversation's last_message_id; ids are UUIDv7, ordered by time), that page is the
-- answer. Otherwise, if they held a page, it looks at four times as many; and when even that
-- is not enough, or they did not hold a page (rare words, a page asked for far back), it probes
-- every conversation as before.

create or replace function mqchat_search_recent_first() returns int language sql immutable as $$ select 8 $$;

-- Up to `p_limit` + 1 hit ids in `p_convs`, newest first (the +1 says whether there is a next page).
-- EXECUTE plans with the actual words: a cached generic plan would choose one way for all words.
create or replace function mqchat_search_hits(p_convs uuid[], q tsquery, p_before uuid, p_limit int)
returns uuid[]
language plpgsql stable as $$
declare
  ids uuid[];
begin
  execute $q$
    select coalesce(array_agg(id order by id desc), '{}') from (
      select h.id from unnest($1::uuid[]) cid
       cross join lateral (
         select m.id from messages m
          where m.conversation_id = cid and m.search_words @@ $2
            and m.deleted_at is null and ($3::uuid is null or m.id < $3)
          order by m.id desc
          limit $4 + 1) h
       order by h.id desc
       limit $4 + 1) x
  $q$ into ids using p_convs, q, p_before, p_limit;
  return ids;
end;
$$;

create or replace function mqchat_search_core(p_user uuid, p_query text, p_conv uuid, p_before uuid, p_limit int)
returns jsonb
language plpgsql stable as $$
declare
  q tsquery;
  convs uuid[];
  ordered uuid[];
  skipped_newest uuid;  -- the newest message of the conversations the first step skipped
  k int := mqchat_search_recent_first();
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

  -- The k most recent conversations, then 4k, then all of them.
  if cardinality(convs) > k then
    select array_agg(c.id order by c.last_message_id desc nulls last) into ordered
      from conversations c where c.id = any(convs);
  end if;
  while ids is null and cardinality(convs) > k loop
    select c.last_message_id into skipped_newest from conversations c where c.id = ordered[k + 1];
    ids := mqchat_search_hits(ordered[1:k], q, p_before, p_limit);
    -- Complete only if a whole page (and one more) came from the first k and its oldest is newer
    -- than anything the others hold; a conversation without messages holds nothing.
    if cardinality(ids) <= p_limit then
      ids := null;  -- not even a page among the most active: a rare match, every conversation it is
      exit;
    elsif skipped_newest is not null and ids[p_limit + 1] < skipped_newest then
      ids := null;  -- a page, but older ones may hold newer hits: look further back
      k := k * 4;
    end if;
  end loop;
  if ids is null then
    ids := mqchat_search_hits(convs, q, p_before, p_limit);
  end if;

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

revoke all on function mqchat_search_recent_first(), mqchat_search_hits(uuid[], tsquery, uuid, int),
  mqchat_search_core(uuid, text, uuid, uuid, int)
  from public, mqchat_app;
