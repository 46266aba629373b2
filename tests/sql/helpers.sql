-- Shared by the SQL tests (loaded inside each test's transaction, so gone afterwards).
create function pg_temp.assert(ok boolean, what text) returns void language plpgsql as $$
begin
  if ok is distinct from true then raise exception 'assertion failed: %', what; end if;
end $$;

-- Runs `statement` and asserts that it fails with SQLSTATE `state` (or any error when state is null).
create function pg_temp.assert_fails(statement text, state text, what text) returns void language plpgsql as $$
begin
  begin
    execute statement;
  exception when others then
    if state is not null and sqlstate <> state then
      raise exception 'assertion failed: % (expected SQLSTATE %, got %: %)', what, state, sqlstate, sqlerrm;
    end if;
    return;
  end;
  raise exception 'assertion failed: % (no error)', what;
end $$;

create function pg_temp.user_id(name text) returns uuid language sql as $$
  select id from profiles where username = name
$$;

-- Test users t-alice, t-bob, t-carol (password 'pw'); acting as nobody yet. Tests switch to the app
-- role (set local role mqchat_app) and look at owner-only tables only after reset role.
insert into profiles (username, password_hash) values
  ('t-alice', crypt('pw', gen_salt('bf', 4))), ('t-bob', crypt('pw', gen_salt('bf', 4))),
  ('t-carol', crypt('pw', gen_salt('bf', 4)));

-- Acts as `name` the way a backend does: signs in with the password, then presents the token.
create function pg_temp.act_as(name text) returns void language plpgsql as $$
begin
  perform set_config('mqchat.user_id', '', true);
  perform set_config('mqchat.token', mqchat_sign_in(name, 'pw'), true);
end $$;

-- Runs `statement` and asserts it fails with SQLSTATE `state` and a message containing `needle`.
create function pg_temp.assert_fails_with(statement text, state text, needle text, what text) returns void
language plpgsql as $$
begin
  begin
    execute statement;
  exception when others then
    if sqlstate <> state or strpos(sqlerrm, needle) = 0 then
      raise exception 'assertion failed: % (expected SQLSTATE % with "%", got %: %)', what, state, needle, sqlstate, sqlerrm;
    end if;
    return;
  end;
  raise exception 'assertion failed: % (no error)', what;
end $$;

-- Asserts two values are equal, showing both when they are not.
create function pg_temp.assert_eq(got anyelement, expected anyelement, what text) returns void language plpgsql as $$
begin
  if got is distinct from expected then
    raise exception 'assertion failed: % (got %, expected %)', what, got, expected;
  end if;
end $$;
