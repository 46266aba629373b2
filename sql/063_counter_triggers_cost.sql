-- Group unread counts (034) for batches of one-to-one messages (issue 14: Postgres CPU per
-- persisted message). 034's trigger joined every new row to conversation_members, one index probe
-- per message, to find no members at all when the batch is one-to-one chat, as most are. It now
-- looks up the batch's distinct conversations once and returns when none is a group; for groups
-- the update is 034's, limited to the batch's group conversations. Backend instructions per row
-- (bench/insert_instructions.sh, with 062): 288.6k -> 284.6k at 100-row batches, 572.7k -> 569.7k
-- at 10. (Grouping 021's conversation-times join by conversation and sender first was tried too:
-- 1k fewer at 100 rows, 10k more at 10; not kept.) groups_counters_test compares group counts
-- with full recounts.

create or replace function mqchat_group_messages_added() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  groups uuid[];
begin
  select array_agg(distinct m.conversation_id) into groups
    from conversation_members m
   where m.conversation_id = any (array(select distinct n.conversation_id from new_messages n));
  if groups is null then
    return null;
  end if;
  update conversation_members cm set unread = cm.unread + b.n
    from (select n.conversation_id, m.user_id, count(*) as n
            from new_messages n join conversation_members m on m.conversation_id = n.conversation_id
           where n.conversation_id = any (groups)
             and n.deleted_at is null and n.sender_id <> m.user_id
             and (m.joined_after is null or n.id > m.joined_after)
           group by n.conversation_id, m.user_id) b
   where cm.conversation_id = b.conversation_id and cm.user_id = b.user_id;
  return null;
end;
$$;
