-- Tables of the original system (profiles, conversations, messages, message_read_status), with the
-- rules the broker plugin also enforces, so rows written from SQL obey the same contract.
create extension if not exists pgcrypto;     -- crypt(), gen_salt(), gen_random_uuid()
create extension if not exists "uuid-ossp";  -- uuid_generate_v5()

-- RFC 9562 UUIDv7: 48-bit Unix milliseconds, 12 bits of sub-millisecond time (method 3, so ids made
-- one after another in one session sort in order), then random bits. Time-ordered, so
-- (conversation_id, id) is also a chronological index.
create or replace function uuidv7() returns uuid
language plpgsql volatile as $$
declare
  t   numeric := extract(epoch from clock_timestamp()) * 1000;
  ms  bigint := floor(t);
  sub integer := floor((t - ms) * 4096);
  b   bytea := uuid_send(gen_random_uuid());   -- keeps its RFC 4122 variant bits
begin
  b := overlay(b placing substring(int8send(ms) from 3) from 1 for 6);
  b := set_byte(b, 6, 112 | (sub >> 8));         -- version 7
  b := set_byte(b, 7, sub & 255);
  return encode(b, 'hex')::uuid;
end;
$$;

-- Same as the plugin's conversation id: UUIDv5 of the canonical room name in mqchat's namespace.
create or replace function mqchat_conversation_id(room text) returns uuid
language sql immutable strict as $$
  select uuid_generate_v5('6d716368-6174-4d51-8000-000000000001'::uuid, room)
$$;

-- Timestamps as the plugin writes them: RFC 3339, UTC, microseconds, "Z".
create or replace function mqchat_ts(t timestamptz) returns text
language sql immutable strict as $$
  select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

create table if not exists profiles (
  id            uuid primary key default gen_random_uuid(),
  -- No "_" (room names join two usernames with it), no MQTT wildcards or separators, no uppercase.
  username      text not null unique
                check (username collate "C" ~ '^[a-z0-9][a-z0-9.-]{0,31}$'),
  password_hash text,   -- crypt(3): bcrypt $2a$/$2b$ (pgcrypto) or sha512crypt $6$; null = cannot log in
  created_at    timestamptz not null default now()
);

create table if not exists conversations (
  id            uuid primary key,
  room          text not null unique,            -- "<a>_<b>", a < b bytewise
  participant_1 uuid not null references profiles (id) on delete cascade,
  participant_2 uuid not null references profiles (id) on delete cascade,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  unique (participant_1, participant_2),
  check (participant_1 <> participant_2)
);
create index if not exists conversations_participant_2 on conversations (participant_2);

-- Puts the participants in canonical order (by username, bytewise) and derives room and id from them,
-- so every way of creating a conversation gives the same row the plugin expects.
create or replace function conversations_canonical() returns trigger
language plpgsql as $$
declare
  name_1 text;
  name_2 text;
  swap   uuid;
begin
  select username into name_1 from profiles where id = new.participant_1;
  select username into name_2 from profiles where id = new.participant_2;
  if name_1 is null or name_2 is null then
    raise exception 'conversation participants must be existing profiles' using errcode = '23503';
  end if;
  if name_1 = name_2 then
    raise exception 'a conversation needs two different users' using errcode = '23514';
  end if;
  if name_1 collate "C" > name_2 collate "C" then
    swap := new.participant_1; new.participant_1 := new.participant_2; new.participant_2 := swap;
    new.room := name_2 || '_' || name_1;
  else
    new.room := name_1 || '_' || name_2;
  end if;
  new.id := mqchat_conversation_id(new.room);
  return new;
end;
$$;

drop trigger if exists conversations_canonical on conversations;
create trigger conversations_canonical
  before insert or update of participant_1, participant_2, room, id on conversations
  for each row execute function conversations_canonical();

create table if not exists messages (
  id              uuid primary key default uuidv7(),
  conversation_id uuid not null references conversations (id) on delete cascade,
  sender_id       uuid not null references profiles (id) on delete cascade,
  -- 1..4000 characters (not bytes), at least one non-blank character.
  content         text not null check (char_length(content) between 1 and 4000 and content ~ '\S'),
  message_type    text not null default 'text' check (message_type in ('text', 'image', 'file')),
  metadata        jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  client_id       text check (char_length(client_id) between 1 and 64),
  is_edited       boolean not null default false,
  edited_at       timestamptz,
  deleted_at      timestamptz,                   -- soft delete: content is no longer served
  created_at      timestamptz not null default now(),
  origin          text not null default 'sql' check (origin in ('mqtt', 'sql'))
);
-- Keyset paging of a conversation (ids are time-ordered UUIDv7) and "last message" lookups.
create index if not exists messages_conversation_id on messages (conversation_id, id);
create index if not exists messages_sender on messages (sender_id);

create table if not exists message_read_status (
  id         uuid primary key default gen_random_uuid(),
  message_id uuid not null references messages (id) on delete cascade,
  user_id    uuid not null references profiles (id) on delete cascade,
  read_at    timestamptz not null default now(),
  unique (message_id, user_id)
);
create index if not exists message_read_status_user on message_read_status (user_id);
