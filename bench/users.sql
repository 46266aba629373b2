-- Load-generator users :prefix-s<i> / :prefix-r<i> (i < :n) with password :pw, and their conversations.
-- Used by bench/run (compare, callgrind, drain, memcheck).
insert into profiles (username, password_hash)
select u, crypt(:'pw', gen_salt('bf', 4))
  from generate_series(0, :n - 1) i, lateral (values (:'prefix' || '-s' || i), (:'prefix' || '-r' || i)) v(u)
on conflict (username) do update set password_hash = excluded.password_hash;
insert into conversations (participant_1, participant_2)
select s.id, r.id from generate_series(0, :n - 1) i
  join profiles s on s.username = :'prefix' || '-s' || i join profiles r on r.username = :'prefix' || '-r' || i
on conflict do nothing;
