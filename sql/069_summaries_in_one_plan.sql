-- Summaries for many users in one plan (issue 14: Postgres CPU per message, and per conversation).
--
-- The bridge asks for up to 500 users' summaries in one statement, several times a second under
-- traffic. mqchat_summaries called mqchat_summary_entries once per user: a PL/pgSQL function whose
-- one query Postgres started afresh each time (the executor set up its twenty-odd nodes, opened each
-- relation and asked its size) for a user with a single conversation. mqchat_summary_entries_of
-- takes the users as an array: one plan, started once, rescanned per user. Same query, same results
-- as 060's (counters_test compares them with a recount on random histories).
--
-- mqchat_ts was declared immutable, but to_char is only stable (its formats can depend on the
-- locale; this one does not), so Postgres would not inline it: every timestamp in a summary was a
-- SQL function call, parsed again at each summary. Declared stable, it is inlined into its callers.
--
-- Both functions ask for generic plans: the query's cost estimate depends on how many users the
-- array holds, so Postgres kept planning it afresh for each call (~1 ms; a one-user summary took
-- 1.2 ms instead of 0.26).
--
-- 16 users with one conversation each (the benchmark's), 500 times, backend CPU from /proc, tables
-- analyzed: 68 µs per user's summary with 060's functions (and mqchat_ts inlined), 44 with these;
-- 88 before mqchat_ts was. One user's summary (pgbench): 0.35–0.38 ms → 0.26–0.28 ms. A user with
-- 1,000 conversations: ~52 ms both (59.5 before mqchat_ts was inlined).

alter function mqchat_ts(timestamptz) stable;
alter function mqchat_read_event(text, uuid, boolean, timestamptz) stable;  -- it calls mqchat_ts

-- Each user's summary entries: the listed ones (p_archived false) or the archived ones (true).
create or replace function mqchat_summary_entries_of(p_users uuid[], p_archived boolean)
returns table (user_id uuid, entries jsonb)
language plpgsql stable set plan_cache_mode = force_generic_plan as $$
begin
  return query
  select u.id, coalesce((
    select jsonb_agg(e.j order by e.t desc, e.last_id desc nulls last)
    from (select jsonb_build_object(
                   'room', c.room, 'with', other.username, 'last_message', last.j,
                   'unread_count', case when c.participant_1 = u.id then c.unread_1 else c.unread_2 end,
                   'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end as j,
                 greatest(c.updated_at, last.created_at) as t, last.id as last_id
            from conversations c
            join profiles other
              on other.id = case when c.participant_1 = u.id then c.participant_2 else c.participant_1 end
            left join conversation_settings s on s.user_id = u.id and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, u.id) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last on true
           where u.id in (c.participant_1, c.participant_2)
             and coalesce(mqchat_is_archived(s, c.last_message_id), false) = p_archived
          union all
          select jsonb_build_object(
                   'room', c.room, 'group', true, 'name', c.name,
                   'members', (select count(*) from conversation_members x where x.conversation_id = c.id),
                   'role', cm.role, 'last_message', last.j, 'unread_count', cm.unread,
                   'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end,
                 greatest(c.updated_at, last.created_at), last.id
            from conversation_members cm
            join conversations c on c.id = cm.conversation_id
            left join conversation_settings s on s.user_id = u.id and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, u.id) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last on true
           where cm.user_id = u.id
             and coalesce(mqchat_is_archived(s, c.last_message_id), false) = p_archived) e), '[]'::jsonb)
    from unnest(p_users) as u(id);
end
$$;

create or replace function mqchat_summary_entries(u uuid, p_archived boolean) returns jsonb
language plpgsql stable as $$
begin
  return (select entries from mqchat_summary_entries_of(array[u], p_archived));
end
$$;

create or replace function mqchat_summaries(p_users text[])
returns table (username text, summary jsonb)
language plpgsql stable set plan_cache_mode = force_generic_plan as $$
begin
  return query
  select p.username, e.entries
    from mqchat_summary_entries_of(array(select id from profiles where profiles.username = any(p_users)), false) e
    join profiles p on p.id = e.user_id;
end
$$;

revoke all on function mqchat_summary_entries_of(uuid[], boolean) from public, mqchat_app;
