-- 061: the search key function in PL/pgSQL and GIN's pending list emptied by every shipper batch.
-- The keys are exactly 051's; rows waiting in the pending list (SQL sends) and rows a shipper batch
-- merged are found alike; moving the list into the index is the owner's, not the app role's.

-- The same keys as 051's SQL body, for text of every kind (empty, scripts, apostrophes, URLs, many words).
create temp table texts (t text);
insert into texts values (''), ('   '), ('hello'), ('Привет, мир! Как дела?'), ('Un café crème, s''il vous plaît'),
  ('don''t stop https://example.com/a?b=c me@example.com 42 3.14'), ('a a a b b c'),
  ((select string_agg('w' || i, ' ') from generate_series(1, 300) i));
select pg_temp.assert_eq(
  (select count(*) from texts, (values ('00000000-0000-7000-8000-0000000000ab'::uuid), (gen_random_uuid())) c(conv)
    where mqchat_search_keys(c.conv, to_tsvector('simple', t)) is distinct from
          (case when to_tsvector('simple', t) = ''::tsvector then '{}'::text[]
                else string_to_array(right(c.conv::text, 12)
                                     || array_to_string(tsvector_to_array(to_tsvector('simple', t)),
                                                        E'\x01' || right(c.conv::text, 12)), E'\x01') end)),
  0::bigint, 'the PL/pgSQL key function gives 051''s keys');
select pg_temp.assert((select reloptions @> array['fastupdate=on', 'gin_pending_list_limit=64']
                         from pg_class where relname = 'messages_search_keys'), 'a 64 kB pending list');

-- Sent through SQL: waiting in the pending list, found.
set local role mqchat_app;
select pg_temp.act_as('t-alice');
select send_message('t-bob', 'pendingword from sql ' || i) from generate_series(1, 3) i;
select pg_temp.assert_eq(jsonb_array_length(search_messages('pendingword')->'results'), 3, 'found in the pending list');
select pg_temp.assert_fails_with('select mqchat_search_index_flush()', '42501', 'permission denied',
                                 'the app role cannot flush the index');
reset role;

-- A shipper batch (staged as the shipper's COPY leaves it, merged by mqchat_ingest_staged): stored,
-- the pending list moved into the index with it, and everything found the same way before and after.
create temporary table mqchat_ingest_stage (like mqchat_ingest_stage_shape) on commit delete rows;
insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, metadata, client_id, created_at)
  select uuidv7(), mqchat_conversation_id('t-alice_t-bob'), pg_temp.user_id('t-bob'), 'pendingword batched ' || i,
         'text', '{}', 'search-index-cost-' || i, now()
    from generate_series(1, 40) i;
select pg_temp.assert_eq(mqchat_ingest_staged(), 40, 'the batch is stored');
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-alice', 'pendingword', null, null, 50)->'results'), 43,
                         'the batch and the SQL sends are found');
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-alice', 'batched', null, null, 50)->'results'), 40,
                         'one word of the batch');
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-carol', 'pendingword', null, null, 50)->'results'), 0,
                         'not found by someone else');
-- Replaying the batch stores nothing twice and flushes nothing.
select pg_temp.assert_eq(mqchat_ingest_staged(), 0, 'a replay stores nothing');
select mqchat_search_index_flush();
select pg_temp.assert_eq(jsonb_array_length(mqchat_search('t-alice', 'pendingword', null, null, 50)->'results'), 43,
                         'the same after an explicit flush');
