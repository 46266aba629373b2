-- Search (032): only the requester's conversations, non-English text, keyset pages newest first
-- without gaps or repeats, highlights that are safe HTML, deleted messages never found.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'Привет, мир! Как дела?');
select send_message('t-bob', 'Un café crème, s''il vous plaît');
select send_message('t-bob', '<b>bold</b> needle & <script>x</script>');
select send_message('t-bob', 'needle number ' || i) from generate_series(1, 5) i;
select send_message('t-bob', 'needle to delete');
select delete_message((select id from messages where content = 'needle to delete'));
select pg_temp.act_as('t-carol');
select send_message('t-bob', 'carol''s own needle, and мир');

-- Alice finds her messages, in any script, never carol's.
select pg_temp.act_as('t-alice');
select pg_temp.assert_eq((search_messages('мир')->'results'->0->>'content'), 'Привет, мир! Как дела?', 'Cyrillic word');
select pg_temp.assert_eq(jsonb_array_length(search_messages('ПРИВЕТ')->'results'), 1, 'case-insensitive');
select pg_temp.assert_eq((search_messages('crème')->'results'->0->>'room'), 't-alice_t-bob', 'accented word');
select pg_temp.assert_eq(jsonb_array_length(search_messages('café -crème')->'results'), 0, 'websearch syntax: exclusion');
select pg_temp.assert_eq(jsonb_array_length(search_messages('"number 3"')->'results'), 1, 'websearch syntax: phrase');
select pg_temp.assert_eq(
  (select count(*) from jsonb_array_elements(search_messages('needle', null, 50)->'results') r
    where r->>'content' like 'carol%' or r->>'content' = 'needle to delete'), 0::bigint,
  'neither carol''s conversation nor deleted messages');

-- Pages of 2: 6 hits (5 numbered + the HTML one) newest first, each once, then next is null.
create temp table pages (n int, ids text[], next text);
grant all on pages to mqchat_app;
do $$
declare
  cursor_id uuid;
  r jsonb;
  i int := 0;
begin
  loop
    r := search_messages('needle', cursor_id, 2);
    i := i + 1;
    insert into pages values (i, array(select x->>'id' from jsonb_array_elements(r->'results') x), r->>'next');
    exit when r->>'next' is null or i > 10;
    cursor_id := (r->>'next')::uuid;
  end loop;
end $$;
select pg_temp.assert_eq((select array_agg(cardinality(ids) order by n) from pages), array[2, 2, 2], 'three full pages');
select pg_temp.assert_eq((select next from pages where n = 3), null, 'the last page says so');
select pg_temp.assert_eq(
  (select array_agg(id order by n, o) from pages, unnest(ids) with ordinality u(id, o)),
  (select array_agg(id::text order by id desc) from messages
    where content like '%needle%' and conversation_id = mqchat_conversation_id('t-alice_t-bob')),
  'every hit once, newest first');

-- Highlights: matches in <mark>, the message's own markup escaped.
select pg_temp.assert((select h like '<mark>bold</mark>%needle%' and strpos(h, '<b>') = 0 and strpos(h, '<script') = 0
                         from (select search_messages('bold')->'results'->0->>'headline' as h) x),
                        'marked matches, no markup of the message''s own');
select send_message('t-bob', 'quoted x<y && "q2" ' || E'\ue000' || 'fake' || E'\ue001' || ' end');
select pg_temp.assert_eq((search_messages('quoted')->'results'->0->>'headline'),
                         '<mark>quoted</mark> x&lt;y &amp;&amp; &quot;q2&quot; fake end', 'escaped; no forged marks');
select pg_temp.assert((search_messages('number')->'results'->0->>'headline') like '%<mark>number</mark>%', 'marked');

-- A room filter: one's own room narrows; someone else's room finds nothing (and says nothing).
select pg_temp.assert_eq(jsonb_array_length(search_messages('needle', null, 50, 't-alice_t-bob')->'results'), 6, 'own room');
select pg_temp.assert_eq(jsonb_array_length(search_messages('needle', null, 50, 't-bob_t-carol')->'results'), 0,
                         'another''s room: nothing');

-- Bad queries.
select pg_temp.assert_fails_with($$select search_messages('   ')$$, '22023', 'query', 'blank query');
select pg_temp.assert_fails_with($$select search_messages(repeat('x', 257))$$, '22023', 'query', 'query too long');
select pg_temp.assert_fails_with($$select search_messages('x', null, 51)$$, '22023', 'limit', 'limit too big');
select pg_temp.assert_eq(search_messages('!!! ???')->'results', '[]'::jsonb, 'a query of no words finds nothing');

-- Carol: her own only.
select pg_temp.act_as('t-carol');
select pg_temp.assert_eq(
  (select array_agg(r->>'content') from jsonb_array_elements(search_messages('мир')->'results') r),
  array['carol''s own needle, and мир'], 'carol finds only her conversations'' messages');

-- The bridge's entry point: the same, with the requester by name.
reset role;
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-carol', 'needle', null, null, 50)->'results'), 1,
                         'bridge: carol''s only');
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-carol', 'needle', 't-alice_t-bob', null, 50)->'results'), 0,
                         'bridge: a room that is not hers gives nothing');
select pg_temp.assert_eq(mqchat_search('t-bob', 'needle', null, null, 50)->>'status', 'ok', 'bridge: ok');
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-bob', 'needle', null, null, 50)->'results'), 7,
                         'bob is in both conversations');
select pg_temp.assert_eq(mqchat_search('t-bob', '', null, null, 50)->>'status', 'bad_request', 'bridge: blank query');


set local role mqchat_app;
select pg_temp.assert_fails_with(call, '42501', 'permission denied for function', 'cannot call ' || call)
  from (values ($$select mqchat_search('t-alice', 'x', null, null, 10)$$),
               ($$select mqchat_search_core(pg_temp.user_id('t-alice'), 'x', null, null, 10)$$)) c(call);
