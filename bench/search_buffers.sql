-- Work per search, as shared buffers touched (hit + read), and time, for `mqchat_search_hits` on the
-- database bench/search_data.sql filled (bench/run search with MQCHAT_BENCH_KEEP=1):
--   psql DSN -f bench/search_buffers.sql [-v fn=another_function_of_the_same_signature]
-- 60 random requesters; a common (ranks 1-10), a medium (200-300) and a rare (5,000-10,000) word
-- each. Buffers are repeatable where time is not (they do not depend on what else the machine does),
-- so two versions of the function can be compared by loading one under another name.
\if :{?fn}
\else
\set fn mqchat_search_hits
\endif
set search_words.fn = :'fn';
create temp table search_work(kind text, buffers bigint, ms float8);
do $$
declare
  requester uuid;
  convs uuid[];
  word text;
  plan json;
begin
  perform setseed(0.5);
  for i in 1 .. 60 loop
    word := 'h' || (1 + floor(random() * 449))::int;  -- (random() in the WHERE would be drawn per row)
    select id into requester from profiles where username = word;
    convs := mqchat_user_conversation_ids(requester);
    continue when cardinality(convs) = 0;
    for k in 1 .. 3 loop
      word := 'w' || case k when 1 then 1 + floor(random() * 10)::int when 2 then 200 + floor(random() * 100)::int
                            else 5000 + floor(random() * 5000)::int end;
      execute format('explain (analyze, buffers, format json) select %I(%L::uuid[], websearch_to_tsquery(''simple'', %L), null, 20)',
                     current_setting('search_words.fn'), convs, word) into plan;
      insert into search_work values ((array['common', 'medium', 'rare'])[k],
        coalesce((plan->0->'Plan'->>'Shared Hit Blocks')::bigint, 0) + coalesce((plan->0->'Plan'->>'Shared Read Blocks')::bigint, 0),
        (plan->0->>'Execution Time')::float8);
    end loop;
  end loop;
end $$;
select kind, count(*) as searches,
       percentile_disc(0.5) within group (order by buffers) as buffers_p50,
       percentile_disc(0.99) within group (order by buffers) as buffers_p99, max(buffers) as buffers_max,
       round(percentile_cont(0.5) within group (order by ms)::numeric, 1) as ms_p50,
       round(percentile_cont(0.99) within group (order by ms)::numeric, 1) as ms_p99
  from search_work group by kind order by kind;
