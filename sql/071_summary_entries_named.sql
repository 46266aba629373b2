-- Summary entries as 070 builds them, with each name meaning one thing (issue 14 review): the
-- union of a user's rooms is `r` (070 called it `c`, like the conversations inside it), and an
-- entry's time is computed once and used for both its "updated_at" and the order. Same plan, same
-- answers: counters_test and groups_counters_test compare the summaries with a recount on random
-- histories, archive_test the archived, muted and group entries.

create or replace function mqchat_summary_entries_of(p_users uuid[], p_archived boolean)
returns table (user_id uuid, entries jsonb)
language plpgsql stable set plan_cache_mode = force_generic_plan as $$
begin
  return query
  select u.id, coalesce((
    select jsonb_agg(e.j order by e.t desc, e.last_id desc nulls last)
    from (select r.fields || jsonb_build_object('room', r.room, 'last_message', last.j, 'updated_at', mqchat_ts(stamp.t))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end as j,
                 stamp.t, last.id as last_id
            from (select c.id, c.room, c.updated_at, c.last_message_id,
                         jsonb_build_object(
                           'with', other.username,
                           'unread_count', case when c.participant_1 = u.id then c.unread_1 else c.unread_2 end) as fields
                    from conversations c
                    join profiles other
                      on other.id = case when c.participant_1 = u.id then c.participant_2 else c.participant_1 end
                   where u.id in (c.participant_1, c.participant_2)
                  union all
                  select c.id, c.room, c.updated_at, c.last_message_id,
                         jsonb_build_object(
                           'group', true, 'name', c.name, 'role', cm.role, 'unread_count', cm.unread,
                           'members', (select count(*) from conversation_members x where x.conversation_id = c.id))
                    from conversation_members cm
                    join conversations c on c.id = cm.conversation_id
                   where cm.user_id = u.id) r
            left join conversation_settings s on s.user_id = u.id and s.conversation_id = r.id
            left join lateral (
              select mqchat_message_view_json(m, r.room, p.username, u.id) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = r.last_message_id) last on true
            cross join lateral (select greatest(r.updated_at, last.created_at) as t) stamp
           where coalesce(mqchat_is_archived(s, r.last_message_id), false) = p_archived) e), '[]'::jsonb)
    from unnest(p_users) as u(id);
end
$$;
