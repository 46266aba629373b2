-- Summaries with plans kept per session (issue 14: Postgres CPU per message).
--
-- A LANGUAGE sql function that Postgres cannot inline (a FROM clause, a sub-select) is parsed and
-- planned again each time the statement that calls it runs. The bridge's summary statement runs
-- several times a second and calls mqchat_summary_entries once per user and
-- mqchat_message_view_json once per conversation: planning was most of its cost (pg_stat_statements
-- under 3,600 msg/s: 30 ms per 16-user statement, 45 µs per chat message). PL/pgSQL keeps each
-- statement's plan for the session: 16 users' summaries 5 ms → 1.9 ms in a warm session, 30 → 9 ms
-- per statement in the bridge under load (docs/PERFORMANCE-LOG.md, "Where Postgres' time goes").
-- Same bodies, same results as 031 and 034.

create or replace function mqchat_message_view_json(m messages, room text, sender text, p_viewer uuid) returns jsonb
language plpgsql stable as $$
begin
  return mqchat_message_full_json(m, room, sender)
         || case when exists (select 1 from message_reactions r where r.message_id = m.id)
                 then jsonb_build_object('reactions', mqchat_reactions_json(m.id, p_viewer)) else '{}'::jsonb end;
end
$$;

create or replace function mqchat_summary_entries(u uuid, p_archived boolean) returns jsonb
language plpgsql stable as $$
begin
  return (select coalesce(jsonb_agg(e.j order by e.t desc, e.last_id desc nulls last), '[]'::jsonb)
    from (select jsonb_build_object(
                   'room', c.room, 'with', other.username, 'last_message', last.j,
                   'unread_count', case when c.participant_1 = u then c.unread_1 else c.unread_2 end,
                   'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end as j,
                 greatest(c.updated_at, last.created_at) as t, last.id as last_id
            from conversations c
            join profiles other
              on other.id = case when c.participant_1 = u then c.participant_2 else c.participant_1 end
            left join conversation_settings s on s.user_id = u and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, u) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last on true
           where u in (c.participant_1, c.participant_2)
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
            left join conversation_settings s on s.user_id = u and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, u) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last on true
           where cm.user_id = u
             and coalesce(mqchat_is_archived(s, c.last_message_id), false) = p_archived) e);
end
$$;
