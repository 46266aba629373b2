-- New messages: one statement trigger instead of three (issue 14: Postgres CPU per persisted
-- message).
--
-- An insert into messages fired 011/067's counters (messages_conversation_times), 034/063's group
-- counters (messages_group_counts_added) and 062/065's reference checks
-- (messages_references_inserted), each a security definer function with its own SET search_path
-- and its own pass over the transition table; the checks called two more such functions. Here one
-- function does it all, in the order that fails soonest:
--   1. the references (062, 065): conversation and sender exist, a reply's target is in the same
--      conversation; 23503 under the foreign keys' names, rows locked FOR KEY SHARE;
--   2. the conversations' times, last message, unread counts and read floors (067);
--   3. group members' unread counts (034, 063), only when a conversation of the batch has members.
-- Its statements take the batch's conversations and senders as parameters, and Postgres planned
-- them again for every small batch, finding a custom plan cheaper than the generic one by its
-- estimates; the generic plans (index lookups by the batch's ids) serve every batch size, so the
-- function asks for them. The check functions are now called only from security definer triggers
-- that set the search path, so they run as those do, without a switch of their own (still revoked
-- from public).
-- bench/insert_instructions.sh 1 10 100, backend instructions (the harness's staging included):
-- 2.890M -> 2.673M per 1-row batch, 509.6k -> 500.5k per row at 10 rows, 237.3k -> 235.2k at 100.
-- Folding alone gave -94k per 10-row batch and +24k per 1-row one (the statements are the cost,
-- not the calls); the generic plans gave the rest. tests/sql/counters_test.sql,
-- groups_counters_test.sql, message_references_test.sql and reply_references_test.sql exercise
-- each part.

create or replace function mqchat_messages_inserted() returns trigger
language plpgsql security definer
set search_path = public, pg_temp set plan_cache_mode = force_generic_plan as $$
declare
  convs uuid[];
  senders uuid[];
  reply_convs uuid[];  -- the replies' conversations and targets, pair by pair (one scan feeds both)
  targets uuid[];
  groups uuid[];       -- the batch's conversations that have members
begin
  select coalesce(array_agg(distinct n.conversation_id), '{}'), coalesce(array_agg(distinct n.sender_id), '{}'),
         array_agg(n.conversation_id) filter (where n.reply_to is not null),
         array_agg(n.reply_to) filter (where n.reply_to is not null)
    into convs, senders, reply_convs, targets
    from new_messages n;
  perform mqchat_message_references_check(convs, senders);
  if targets is not null then
    perform mqchat_reply_targets_check(reply_convs, targets);
  end if;

  update conversations c
     set created_at = least(c.created_at, b.first_at),
         updated_at = greatest(c.updated_at, b.last_at),
         last_message_id = greatest(c.last_message_id, b.last_id),
         unread_1 = c.unread_1 + b.to_1,
         unread_2 = c.unread_2 + b.to_2,
         read_floor_1 = case when b.min_to_1 <= c.read_floor_1
                             then (select m.id from messages m where m.conversation_id = c.id and m.id < b.min_to_1
                                    order by m.id desc limit 1)
                             else c.read_floor_1 end,
         read_floor_2 = case when b.min_to_2 <= c.read_floor_2
                             then (select m.id from messages m where m.conversation_id = c.id and m.id < b.min_to_2
                                    order by m.id desc limit 1)
                             else c.read_floor_2 end
    from (select n.conversation_id, min(n.created_at) as first_at, max(n.created_at) as last_at,
                 -- uuid has no min() or max() in Postgres 15; its text form sorts the same under "C"
                 max(n.id::text collate "C")::uuid as last_id,
                 count(*) filter (where n.deleted_at is null and n.sender_id <> p.participant_1) as to_1,
                 count(*) filter (where n.deleted_at is null and n.sender_id <> p.participant_2) as to_2,
                 min(n.id::text collate "C") filter (where n.deleted_at is null and n.sender_id <> p.participant_1)::uuid as min_to_1,
                 min(n.id::text collate "C") filter (where n.deleted_at is null and n.sender_id <> p.participant_2)::uuid as min_to_2
            from new_messages n join conversations p on p.id = n.conversation_id
           group by n.conversation_id) b
   where c.id = b.conversation_id;

  select array_agg(distinct m.conversation_id) into groups
    from conversation_members m where m.conversation_id = any (convs);
  if groups is not null then
    update conversation_members cm set unread = cm.unread + b.n
      from (select n.conversation_id, m.user_id, count(*) as n
              from new_messages n join conversation_members m on m.conversation_id = n.conversation_id
             where n.conversation_id = any (groups)
               and n.deleted_at is null and n.sender_id <> m.user_id
               and (m.joined_after is null or n.id > m.joined_after)
             group by n.conversation_id, m.user_id) b
     where cm.conversation_id = b.conversation_id and cm.user_id = b.user_id;
  end if;
  return null;
end;
$$;

drop trigger if exists messages_conversation_times on messages;
drop trigger if exists messages_group_counts_added on messages;
drop trigger if exists messages_references_inserted on messages;
drop trigger if exists messages_inserted on messages;
create trigger messages_inserted after insert on messages
  referencing new table as new_messages for each statement execute function mqchat_messages_inserted();

drop function if exists mqchat_conversation_times();
drop function if exists mqchat_group_messages_added();
drop function if exists mqchat_messages_references_inserted();

alter function mqchat_message_references_check(uuid[], uuid[]) security invoker reset search_path;
alter function mqchat_reply_targets_check(uuid[], uuid[]) security invoker reset search_path;

revoke all on function mqchat_messages_inserted() from public;
