-- A conversation's last message after an insert: the newer of the one it had and the batch's
-- newest, instead of looking the conversation's newest up in the (conversation_id, id) index
-- (issue 14: Postgres CPU per persisted message).
--
-- 021 keeps conversations.last_message_id the conversation's greatest message id through every
-- change (inserts here; deletes, moves and truncation recount), so after an insert it can only be
-- the old one or one of the new rows. The lookup was an index descent per conversation of the
-- batch (~20k instructions each, ~170k for a batch spread over 8 conversations), a fixed cost that
-- weighs on the small batches of moderate rates. bench/insert_instructions.sh 10 100: 524.7k ->
-- 507.8k per row at 10-row batches, 238.0k -> 237.1k at 100. tests/sql/counters_test.sql and
-- groups_counters_test.sql compare the pointer with the newest message after every step of random
-- histories (late messages, replays, deletes, moves); both fail if the old pointer is ignored.
create or replace function mqchat_conversation_times() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
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
  return null;
end;
$$;
