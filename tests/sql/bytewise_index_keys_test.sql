-- 064: the search index and the dedup index compare their text keys byte by byte ("C"). What must
-- hold: the search still reads its index (its && compared in "C" too, else the planner cannot use
-- it and every search would read the table), the keys find the same messages, and a client_id is
-- still stored once per conversation and sender through MQTT.

-- The collation of each key column of an index ('-': a type without one).
create function pg_temp.key_collations(idx regclass) returns name[] language sql as $$
  select array_agg(coalesce(c.collname, '-') order by k.n)
    from pg_index i
    cross join lateral unnest(i.indcollation::oid[]) with ordinality k(coll, n)
    left join pg_collation c on c.oid = k.coll
   where i.indexrelid = idx
$$;
select pg_temp.assert_eq(pg_temp.key_collations('messages_search_keys'), array['C']::name[],
                         'the search keys are in "C"');
select pg_temp.assert_eq(pg_temp.key_collations('messages_client_id_once'), array['-', '-', 'C']::name[],
                         'the dedup index''s client_id is in "C"');

-- Words in the three scripts the keys hold, found through the index (probe forced, no walk, no
-- windows) and counted by the index's own scan counter of this transaction.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', m) from unnest(array['Zebra apple', 'zebra Äpfel', 'ÉCOLE école', 'Привет мир',
                                                  'apple pie', 'unrelated']) m;
reset role;
create temp table scans_before as select pg_stat_get_xact_numscans('messages_search_keys'::regclass) as n;
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select set_config('mqchat.search_probe', '100000', true), set_config('mqchat.search_walk', '0', true);
select pg_temp.assert_eq(jsonb_array_length(search_messages('zebra')->'results'), 2, 'zebra, any case');
select pg_temp.assert_eq(jsonb_array_length(search_messages('äpfel')->'results'), 1, 'a word with an umlaut');
select pg_temp.assert_eq(jsonb_array_length(search_messages('école')->'results'), 1, 'an accented word');
select pg_temp.assert_eq(jsonb_array_length(search_messages('мир')->'results'), 1, 'a Cyrillic word');
select pg_temp.assert_eq(jsonb_array_length(search_messages('apple or мир')->'results'), 3, 'either word');
select pg_temp.assert_eq(jsonb_array_length(search_messages('apple -pie')->'results'), 1, 'a word without another');
reset role;
select pg_temp.assert((select pg_stat_get_xact_numscans('messages_search_keys'::regclass) - n >= 6 from scans_before),
                      'every search read the search index');

-- The same client_id twice from MQTT in one conversation and sender: stored once; from another
-- sender, or differing only in case, stored too.
insert into messages (conversation_id, sender_id, content, client_id, origin)
  values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'once', 'Retry-1', 'mqtt'),
         (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), 'other sender', 'Retry-1', 'mqtt'),
         (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'other case', 'retry-1', 'mqtt');
select pg_temp.assert_fails($$insert into messages (conversation_id, sender_id, content, client_id, origin)
                              values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'twice',
                                      'Retry-1', 'mqtt')$$, '23505', 'a second Retry-1 from alice is refused');
insert into messages (conversation_id, sender_id, content, client_id, origin)
  values (mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-alice'), 'twice', 'Retry-1', 'mqtt')
  on conflict do nothing;
select pg_temp.assert_eq((select count(*) from messages where client_id in ('Retry-1', 'retry-1')), 3::bigint,
                         'three rows, the replay skipped');
