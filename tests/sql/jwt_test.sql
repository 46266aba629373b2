-- mqchat.token also takes the HS256 JWTs the plugin accepts, once the owner stores their key; the
-- token's own claims never choose the algorithm, and exp/nbf/sub are checked.
create function pg_temp.b64url(b bytea) returns text language sql as $$
  select rtrim(translate(replace(encode(b, 'base64'), e'\n', ''), '+/', '-_'), '=')
$$;
create function pg_temp.jwt(header jsonb, claims jsonb, key text) returns text language sql as $$
  select h || '.' || c || '.' || pg_temp.b64url(hmac(convert_to(h || '.' || c, 'UTF8'), convert_to(key, 'UTF8'), 'sha256'))
    from (select pg_temp.b64url(convert_to(header::text, 'UTF8')) as h,
                 pg_temp.b64url(convert_to(claims::text, 'UTF8')) as c) parts
$$;
create function pg_temp.claims(sub uuid, exp_in interval) returns jsonb language sql as $$
  select jsonb_build_object('sub', sub, 'exp', extract(epoch from now() + exp_in)::bigint, 'name', 'padding to pass 76 chars')
$$;
create temp table k as select 'an-hs256-key-shared-with-the-plugin-0123456789'::text as key;
create temp table jwts as select
  pg_temp.jwt('{"alg":"HS256","typ":"JWT"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), (select key from k)) as bob;
grant select on k, jwts to mqchat_app;

-- Not enabled: refused.
set local role mqchat_app;
select set_config('mqchat.token', (select bob from jwts), true);
select pg_temp.assert_fails_with($$select * from mqchat_whoami()$$, '28000', 'JWTs are not enabled', 'no key, no JWTs');

reset role;
insert into mqchat_secrets (name, value) select 'jwt_hs256', convert_to(key, 'UTF8') from k;
set local role mqchat_app;
select pg_temp.assert_eq((select username from mqchat_whoami()), 't-bob', 'a valid JWT names its sub');
select pg_temp.assert_eq(send_message('t-alice', 'via jwt')->>'sender', 't-bob', 'and acts as it');

select pg_temp.assert_fails_with(format($$select set_config('mqchat.token', %L, true); select * from mqchat_whoami()$$, bad),
                                 '28000', needle, 'refused: ' || what)
  from (select key from k) k, lateral (values
    (pg_temp.jwt('{"alg":"HS512"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), key), 'HS256', 'another alg'),
    (pg_temp.jwt('{"alg":"none"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), key), 'HS256', 'alg none, signed'),
    (split_part(pg_temp.jwt('{"alg":"none"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), key), '.', 1) || '.'
       || split_part(pg_temp.jwt('{"alg":"none"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), key), '.', 2) || '.',
     'not a JWT', 'alg none, unsigned'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), 'another key, just as long as the real one'),
     'signature is invalid', 'signed with another key'),
    (split_part(pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-alice'), '10 minutes'), key), '.', 1) || '.'
       || split_part(pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-alice'), '10 minutes'), key), '.', 2) || '.'
       || split_part((select bob from jwts), '.', 3), 'signature is invalid', 'bob''s signature on alice''s claims'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-bob'), '-1 second'), key), 'expired', 'expired'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes') - 'exp', key), 'no exp', 'no exp'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes') || '{"exp":"9999999999"}', key),
     'no exp', 'exp not a number'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes')
       || jsonb_build_object('nbf', extract(epoch from now() + interval '1 minute')::bigint), key), 'not valid yet', 'nbf ahead'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(gen_random_uuid(), '10 minutes'), key), 'names no profile', 'unknown sub'),
    (pg_temp.jwt('{"alg":"HS256"}', pg_temp.claims(null, '10 minutes') || '{"sub":"t-bob"}', key), 'not a profile id',
     'a username as sub'),
    (pg_temp.jwt('[1]', pg_temp.claims(pg_temp.user_id('t-bob'), '10 minutes'), key), 'HS256', 'header not an object'))
    bad_tokens(bad, needle, what);
-- Row-level security applies as for any token.
select set_config('mqchat.token', (select bob from jwts), true);
select pg_temp.assert_eq((select count(*) from messages), 1::bigint, 'bob sees his one message');
select pg_temp.assert_fails_with($$update messages set content = 'x'$$, '42501', 'permission denied', 'no more rights');
