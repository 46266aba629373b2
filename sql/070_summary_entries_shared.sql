-- Summary entries: the parts one-to-one rooms and groups share, written once (issue 14 review).
--
-- 069's query was a union of two whole entry queries, one per kind of room, and each repeated the
-- same settings join, last-message lateral, archived filter and timestamp. Here the union only
-- picks a user's rooms (the columns the rest reads) and what is particular to each kind (the other
-- person, or the group's name, size and the user's role, and the user's unread count); the shared
-- parts follow once, over both. Joining conversations again after the union instead would be
-- shorter, but Postgres cannot tell the union is a few rows and scans the whole table per user.
-- jsonb keeps an object's keys in its own order, so concatenating the parts gives the same values
-- as building them in one call: counters_test and groups_counters_test compare the summaries with
-- a recount on random histories, archive_test the archived, muted and group entries.

create or replace function mqchat_summary_entries_of(p_users uuid[], p_archived boolean)
returns table (user_id uuid, entries jsonb)
language plpgsql stable set plan_cache_mode = force_generic_plan as $$
begin
  return query
  select u.id, coalesce((
    select jsonb_agg(e.j order by e.t desc, e.last_id desc nulls last)
    from (select c.fields || jsonb_build_object(
                   'room', c.room, 'last_message', last.j,
                   'updated_at', mqchat_ts(greatest(c.updated_at, last.created_at)))
                 || case when s.muted then '{"muted": true}'::jsonb else '{}'::jsonb end as j,
                 greatest(c.updated_at, last.created_at) as t, last.id as last_id
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
                   where cm.user_id = u.id) c
            left join conversation_settings s on s.user_id = u.id and s.conversation_id = c.id
            left join lateral (
              select mqchat_message_view_json(m, c.room, p.username, u.id) as j, m.created_at, m.id
                from messages m join profiles p on p.id = m.sender_id
               where m.id = c.last_message_id) last on true
           where coalesce(mqchat_is_archived(s, c.last_message_id), false) = p_archived) e), '[]'::jsonb)
    from unnest(p_users) as u(id);
end
$$;
