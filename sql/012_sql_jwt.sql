-- mqchat.token also takes the HS256 JSON Web Tokens the broker plugin accepts as logins (jwt.*):
-- a web app that already issues them for its users need not sign users in twice. Enabled when the
-- owner stores the same HMAC key: insert into mqchat_secrets values ('jwt_hs256', '<key bytes>').
-- As in the plugin: the algorithm is fixed (the token's "alg" must say HS256; "none" or anything
-- else is refused), "exp" is required, "nbf" is honoured, "sub" is the profile id. Unlike
-- mqchat_sign_in tokens, a JWT is not revoked by a password change: keep them short-lived.

create or replace function mqchat_base64url_decode(s text) returns bytea
language sql immutable strict as $$
  select decode(translate(s, '-_', '+/') || repeat('=', (4 - length(s) % 4) % 4), 'base64')
$$;

-- The profile a JWT names, or an error (28000).
create or replace function mqchat_jwt_user(token text) returns uuid
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  parts text[] := string_to_array(token, '.');
  key bytea := (select value from mqchat_secrets where name = 'jwt_hs256');
  header jsonb;
  claims jsonb;
  uid uuid;
begin
  if key is null then
    raise exception 'mqchat.token is not a token from mqchat_sign_in (JWTs are not enabled)' using errcode = '28000';
  end if;
  if array_length(parts, 1) is distinct from 3 or token !~ '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' then
    raise exception 'mqchat.token is not a JWT' using errcode = '28000';
  end if;
  if digest(parts[3], 'sha256') <> digest(rtrim(translate(encode(
       hmac(convert_to(parts[1] || '.' || parts[2], 'UTF8'), key, 'sha256'), 'base64'), '+/', '-_'), '='), 'sha256') then
    raise exception 'mqchat.token: the JWT signature is invalid' using errcode = '28000';
  end if;
  begin
    header := convert_from(mqchat_base64url_decode(parts[1]), 'UTF8')::jsonb;
    claims := convert_from(mqchat_base64url_decode(parts[2]), 'UTF8')::jsonb;
  exception when others then
    raise exception 'mqchat.token: the JWT is not JSON' using errcode = '28000';
  end;
  if jsonb_typeof(header) <> 'object' or header->>'alg' is distinct from 'HS256' or jsonb_typeof(claims) <> 'object' then
    raise exception 'mqchat.token: the JWT must be signed with HS256' using errcode = '28000';
  end if;
  if jsonb_typeof(claims->'exp') is distinct from 'number' or (claims->>'exp')::numeric <= extract(epoch from now()) then
    raise exception 'mqchat.token: the JWT has expired (or has no exp)' using errcode = '28000';
  end if;
  if claims ? 'nbf' and (jsonb_typeof(claims->'nbf') <> 'number' or (claims->>'nbf')::numeric > extract(epoch from now())) then
    raise exception 'mqchat.token: the JWT is not valid yet' using errcode = '28000';
  end if;
  if coalesce(claims->>'sub', '') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    raise exception 'mqchat.token: the JWT''s sub is not a profile id' using errcode = '28000';
  end if;
  uid := (claims->>'sub')::uuid;
  if not exists (select 1 from profiles where id = uid) then
    raise exception 'mqchat.token: the JWT''s sub names no profile' using errcode = '28000';
  end if;
  return uid;
end;
$$;

-- mqchat_sign_in tokens start with "mqchat1."; anything else is tried as a JWT.
create or replace function mqchat_current_user_id() returns uuid
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  token   text := nullif(current_setting('mqchat.token', true), '');
  setting text := nullif(current_setting('mqchat.user_id', true), '');
  uid uuid;
begin
  if token is not null then
    if token like 'mqchat1.%' then return mqchat_token_user(token); end if;
    return mqchat_jwt_user(token);
  end if;
  if setting is null then
    raise exception 'no acting user: set mqchat.token to a token from mqchat_sign_in first' using errcode = '28000';
  end if;
  if not mqchat_caller_is_trusted() then
    raise exception 'mqchat.user_id is honoured for trusted roles only: set mqchat.token (mqchat_sign_in)'
      using errcode = '28000';
  end if;
  begin
    uid := setting::uuid;
  exception when invalid_text_representation then
    raise exception 'mqchat.user_id must be a profile id' using errcode = '28000';
  end;
  if not exists (select 1 from profiles where id = uid) then
    raise exception 'mqchat.user_id names no profile' using errcode = '28000';
  end if;
  return uid;
end;
$$;

revoke all on function mqchat_base64url_decode(text), mqchat_jwt_user(text) from public;
