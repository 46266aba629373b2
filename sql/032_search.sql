-- Search (issue 17): full-text search over the conversations the requester takes part in, newest
-- first, paged by keyset on the message id, with highlights.
--
-- The `simple` configuration: words are lower-cased, never stemmed, no stop words, so any language
-- written with spaces between words works the same (Cyrillic, Greek, accented Latin, …); a word must
-- match whole (websearch syntax: "exact phrase", -exclude, or). Scripts without spaces between words
-- (Chinese, Japanese) match only whole runs. The words are a stored column (computed once per
-- insert or edit, never again when a search checks a row) with a GIN index over (conversation,
-- words) (btree_gin): a search probes it once per conversation of the requester, newest first.
create extension if not exists btree_gin;
alter table messages add column if not exists search_words tsvector
  generated always as (to_tsvector('simple', coalesce(content, ''))) stored;
create index if not exists messages_search on messages using gin (conversation_id, search_words);

-- The conversations `p_user` takes part in (the one place to change for other kinds of conversation).
create or replace function mqchat_user_conversation_ids(p_user uuid) returns uuid[]
language sql stable as $$
  select coalesce(array_agg(c.id), '{}') from conversations c where p_user in (c.participant_1, c.participant_2)
$$;

-- Text made safe to show as HTML (the headline's only markup is then <mark>…</mark>).
create or replace function mqchat_html_escape(t text) returns text
language sql immutable strict as $$
  select replace(replace(replace(replace(replace(t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

-- A headline of `content` for `q`: up to two fragments, matches in <mark>…</mark>, everything else
-- HTML-escaped (markers from the Private Use Area, taken out of the content first, mark the matches
-- while ts_headline works on the raw text; the parser drops what looks like an HTML tag).
create or replace function mqchat_headline(content text, q tsquery) returns text
language sql immutable as $$
  select replace(replace(mqchat_html_escape(ts_headline('simple', translate(content, E'\ue000\ue001', ''), q,
           E'StartSel=\ue000, StopSel=\ue001, MaxWords=24, MinWords=8, ShortWord=1, MaxFragments=2, FragmentDelimiter=" … "')),
         E'\ue000', '<mark>'), E'\ue001', '</mark>')
$$;

create or replace function mqchat_search_max_limit() returns int language sql immutable as $$ select 50 $$;

-- One page of `p_user`'s search for `p_query`, in `p_conv` only when given, newer than nothing and
-- older than `p_before` (a message id: the "next" of the previous page). Returns {"status":"ok",
-- "results":[history form + "headline"], "next": id | null} or {"status":"bad_request","reason"}.
create or replace function mqchat_search_core(p_user uuid, p_query text, p_conv uuid, p_before uuid, p_limit int)
returns jsonb
language plpgsql stable as $$
declare
  q tsquery;
  convs uuid[];
  page jsonb;
  n int;
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
  -- Per conversation (GIN cannot take "= any(array)"): each gives its newest hits, through the
  -- index for rare words or walking back its newest messages for common ones; the newest of all
  -- win. EXECUTE plans with the actual words (a cached generic plan would pick one way for all).
  execute $q$
    with hits as (
      select h.* from unnest($1::uuid[]) cid
       cross join lateral (
         select m.* from messages m
          where m.conversation_id = cid and m.search_words @@ $2
            and m.deleted_at is null and ($3::uuid is null or m.id < $3)
          order by m.id desc
          limit $4 + 1) h
       order by h.id desc
       limit $4 + 1),
    shown as (select * from hits order by id desc limit $4)
    select jsonb_agg(mqchat_message_view_json(h, c.room, s.username, $5)
                     || jsonb_build_object('headline', mqchat_headline(h.content, $2))
                     order by h.id desc),
           (select count(*) from hits)
      from shown h join conversations c on c.id = h.conversation_id join profiles s on s.id = h.sender_id
  $q$ into page, n using convs, q, p_before, p_limit, p_user;
  return jsonb_build_object('status', 'ok', 'results', coalesce(page, '[]'::jsonb),
                            'next', case when n > p_limit then page->-1->>'id' end);
end;
$$;

-- The bridge's entry point (users/<me>/requests/search): requester by name; `p_room` optional, and
-- a room that is not the requester's gives no results.
create or replace function mqchat_search(p_user text, p_query text, p_room text, p_before uuid, p_limit int)
returns jsonb
language plpgsql stable as $$
declare
  conv uuid;
begin
  if p_room is not null then
    conv := coalesce((mqchat_room_for(p_room, p_user)).id, '00000000-0000-0000-0000-000000000000');
  end if;
  return mqchat_search_core(mqchat_profile_id(p_user), p_query, conv, p_before, p_limit);
end;
$$;

-- The SQL API: errors 22023 (DETAIL bad_request) for a blank or too long query or a bad limit.
create or replace function search_messages(query text, before uuid default null, max_results int default 20,
                                           room text default null)
returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  me uuid := mqchat_current_user_id();
  conv uuid;
  r jsonb;
begin
  if search_messages.room is not null then
    conv := coalesce((select c.id from conversations c where c.room = search_messages.room
                        and c.id = any(mqchat_user_conversation_ids(me))), '00000000-0000-0000-0000-000000000000');
  end if;
  r := mqchat_search_core(me, query, conv, before, max_results);
  if r->>'status' <> 'ok' then
    raise exception '%', r->>'reason' using errcode = '22023', detail = 'bad_request';
  end if;
  return r - 'status';
end;
$$;

revoke all on function mqchat_user_conversation_ids(uuid), mqchat_html_escape(text), mqchat_headline(text, tsquery), mqchat_search_max_limit(),
  mqchat_search_core(uuid, text, uuid, uuid, int), mqchat_search(text, text, text, uuid, int),
  search_messages(text, uuid, int, text)
  from public, mqchat_app;
grant execute on function search_messages(text, uuid, int, text) to mqchat_app;
