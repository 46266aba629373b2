-- Who an SQL caller acts as: the app role only with a token its user's sign-in produced; the
-- plain mqchat.user_id setting only for trusted roles.
set local role mqchat_app;

-- Signing in.
select pg_temp.assert(mqchat_sign_in('t-alice', 'pw') ~ '^mqchat1\.[0-9a-f-]{36}\.[0-9]+\.[0-9a-f]{64}$', 'a token');
select pg_temp.assert_fails_with($$select mqchat_sign_in('t-alice', 'wrong')$$, '28P01', 'invalid username or password',
                                 'wrong password');
select pg_temp.assert_fails_with($$select mqchat_sign_in('t-nobody', 'pw')$$, '28P01', 'invalid username or password',
                                 'unknown user: the same error');
select pg_temp.assert_fails_with($$select mqchat_sign_in('t-alice', null)$$, '28P01', 'invalid username or password',
                                 'no password');
select pg_temp.assert_fails_with($$select mqchat_sign_in('t-alice', 'pw', '2 days')$$, '22023', 'at most 1 day',
                                 'tokens live at most a day');
select pg_temp.assert_fails_with($$select mqchat_sign_in('t-alice', 'pw', '-1 hour')$$, '22023', 'at most 1 day',
                                 'no negative lifetime');

-- The plain setting is not a credential for the app role.
select set_config('mqchat.user_id', pg_temp.user_id('t-alice')::text, true);
select pg_temp.assert_fails_with($$select send_message('t-bob', 'as alice?')$$, '28000', 'trusted roles only',
                                 'mqchat.user_id is refused for mqchat_app');
select set_config('mqchat.user_id', '', true);
select pg_temp.assert_fails_with($$select * from get_user_conversations()$$, '28000', 'no acting user', 'no identity');

-- Tokens: valid ones name their user; anything tampered with is refused.
create temp table tok as select mqchat_sign_in('t-alice', 'pw') as alice, mqchat_sign_in('t-bob', 'pw') as bob;
select set_config('mqchat.token', (select alice from tok), true);
select pg_temp.assert_eq((select username from mqchat_whoami()), 't-alice', 'alice''s token');
select pg_temp.assert_eq(send_message('t-bob', 'signed')->>'sender', 't-alice', 'sends as alice');
select set_config('mqchat.user_id', pg_temp.user_id('t-bob')::text, true);
select pg_temp.assert_eq((select username from mqchat_whoami()), 't-alice', 'a token wins over mqchat.user_id');
select set_config('mqchat.token', '', true);
select pg_temp.assert_fails_with($$select count(*) from messages$$, '28000', 'trusted roles only',
                                 'reading (row-level security) under mqchat.user_id is refused too');
select set_config('mqchat.token', (select alice from tok), true);
select set_config('mqchat.user_id', '', true);
select pg_temp.assert_fails_with(format($$select set_config('mqchat.token', %L, true); select * from mqchat_whoami()$$, bad),
                                 '28000', 'mqchat.token', 'refused: ' || what)
  from (select (select alice from tok) as a, (select bob from tok) as b) t,
       lateral (values
         ('garbage', 'garbage'),
         ('', 'empty'),
         (split_part(a, '.', 1) || '.' || pg_temp.user_id('t-bob') || '.' || split_part(a, '.', 3) || '.' || split_part(a, '.', 4),
          'alice''s signature with bob''s id'),
         (split_part(a, '.', 1) || '.' || split_part(a, '.', 2) || '.' || (split_part(a, '.', 3)::bigint + 86400) || '.'
            || split_part(a, '.', 4), 'a prolonged expiry'),
         (left(a, -1) || case right(a, 1) when '0' then '1' else '0' end, 'one digit of the signature changed'),
         (split_part(a, '.', 1) || '.' || split_part(a, '.', 2) || '.' || split_part(a, '.', 3) || '.' || split_part(b, '.', 4),
          'bob''s signature on alice''s token'),
         ('mqchat2' || substr(a, 8), 'another version'),
         (a || '.x', 'an extra part')) bad_tokens(bad, what)
 where bad <> '';
select set_config('mqchat.token', '', true);

-- Expired and revoked tokens (made and changed as the owner, used as the app role).
reset role;
create temp table old_tok as
  select 'mqchat1.' || id || '.' || e || '.' || mqchat_token_mac(id, e, password_hash) as token
    from profiles, (select extract(epoch from now())::bigint - 1 as e) x where username = 't-alice';
create temp table fresh_tok as
  select 'mqchat1.' || id || '.' || e || '.' || mqchat_token_mac(id, e, password_hash) as token
    from profiles, (select extract(epoch from now())::bigint + 600 as e) x where username = 't-alice';
grant select on old_tok, fresh_tok to mqchat_app;
set local role mqchat_app;
select set_config('mqchat.token', (select token from fresh_tok), true);
select pg_temp.assert_eq((select username from mqchat_whoami()), 't-alice', 'a well-signed token works');
select set_config('mqchat.token', (select token from old_tok), true);
select pg_temp.assert_fails_with($$select * from mqchat_whoami()$$, '28000', 'has expired', 'an expired token');
reset role;
update profiles set password_hash = crypt('new password', gen_salt('bf', 4)) where username = 't-alice';
set local role mqchat_app;
select set_config('mqchat.token', (select token from fresh_tok), true);
select pg_temp.assert_fails_with($$select * from mqchat_whoami()$$, '28000', 'invalid or revoked',
                                 'a password change revokes the user''s tokens');
select set_config('mqchat.token', '', true);
select pg_temp.assert_fails_with($$select mqchat_sign_in('t-alice', 'pw')$$, '28P01', 'invalid username or password',
                                 'the old password no longer signs in');
select pg_temp.assert(mqchat_sign_in('t-alice', 'new password') like 'mqchat1.%', 'the new one does');

-- A trusted role may act by mqchat.user_id (for a backend that authenticates users itself) …
reset role;
set local role mqchat_backend;
select set_config('mqchat.user_id', pg_temp.user_id('t-bob')::text, true);
select pg_temp.assert_eq((select username from mqchat_whoami()), 't-bob', 'trusted role acts by mqchat.user_id');
select pg_temp.assert_eq(send_message('t-carol', 'from a trusted backend')->>'sender', 't-bob', 'and sends as that user');
select pg_temp.assert_eq((select count(*) from messages where content = 'signed'), 1::bigint,
                         'under the same row-level security');
select pg_temp.assert_fails_with($$update messages set content = 'x'$$, '42501', 'permission denied',
                                 'with the app role''s privileges, no more');
select set_config('mqchat.user_id', 'not-a-uuid', true);
select pg_temp.assert_fails_with($$select * from mqchat_whoami()$$, '28000', 'must be a profile id', 'a bad id');
select set_config('mqchat.user_id', gen_random_uuid()::text, true);
select pg_temp.assert_fails_with($$select * from mqchat_whoami()$$, '28000', 'names no profile', 'an unknown id');
-- … and the app role is not one (SET ROLE is checked against the login role, which a deployment
-- makes a member of mqchat_app only; this session logged in as the owner).
reset role;
select pg_temp.assert(not pg_has_role('mqchat_app', 'mqchat_trusted', 'member'), 'mqchat_app is not trusted');
select pg_temp.assert(not pg_has_role('mqchat_app', 'mqchat_backend', 'member'), 'nor can it become mqchat_backend');
