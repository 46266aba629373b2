-- Row-level security: a database role acting as a user (mqchat_app with mqchat.user_id set) sees only
-- that user's conversations and messages, and marks read only messages addressed to it. The broker
-- plugin and the bridge connect as the owner and are not subject to these policies.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'mqchat_app') then
    create role mqchat_app nologin;
  end if;
end;
$$;

grant usage on schema public to mqchat_app;
grant select (id, username, created_at) on profiles to mqchat_app;   -- never password_hash
grant select, insert, update on conversations to mqchat_app;
grant select, insert, update on messages to mqchat_app;
grant select, insert on message_read_status to mqchat_app;
grant execute on all functions in schema public to mqchat_app;

alter table conversations enable row level security;
alter table messages enable row level security;
alter table message_read_status enable row level security;

drop policy if exists participant on conversations;
create policy participant on conversations to mqchat_app
  using ((select mqchat_current_user_id()) in (participant_1, participant_2))
  with check ((select mqchat_current_user_id()) in (participant_1, participant_2));

drop policy if exists read_own_conversations on messages;
create policy read_own_conversations on messages for select to mqchat_app
  using (exists (select 1 from conversations c where c.id = conversation_id));   -- itself under RLS

drop policy if exists send_as_self on messages;
create policy send_as_self on messages for insert to mqchat_app
  with check (sender_id = (select mqchat_current_user_id())
              and exists (select 1 from conversations c where c.id = conversation_id));

drop policy if exists edit_own on messages;
create policy edit_own on messages for update to mqchat_app
  using (sender_id = (select mqchat_current_user_id()))
  with check (sender_id = (select mqchat_current_user_id()));

-- Readers see their own receipts; senders see the receipts of their messages.
drop policy if exists see_receipts on message_read_status;
create policy see_receipts on message_read_status for select to mqchat_app
  using (user_id = (select mqchat_current_user_id())
         or exists (select 1 from messages m where m.id = message_id and m.sender_id = (select mqchat_current_user_id())));

drop policy if exists mark_addressed_to_me on message_read_status;
create policy mark_addressed_to_me on message_read_status for insert to mqchat_app
  with check (user_id = (select mqchat_current_user_id())
              and exists (select 1 from messages m
                           where m.id = message_id and m.sender_id <> (select mqchat_current_user_id())));
