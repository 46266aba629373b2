-- Fills a THROWAWAY mqchat database with :rows messages in :convs conversations for the search
-- benchmark (bench/run search). psql -v rows=N -v convs=C -f bench/search_data.sql
-- Conversations as bench/history_data.sql (skewed sizes, UUIDv7 ids over 30 days); each message is
-- 8 words drawn from a 20,000-word vocabulary with a Zipf-like skew (word k is about k^-0.75 as
-- frequent as word 1: "w1" is in ~15 % of messages, "w20000" in a few hundred), plus a word of
-- Cyrillic or accented Latin in one message of 10. The rest is history_data.sql itself; the
-- search index is built after the load, the way CREATE INDEX builds it fastest.
\set ON_ERROR_STOP on
\set seed 0.17
\set message_text_defined 1
create function pg_temp.bench_message_text(n bigint) returns text language sql as $$
  select 'w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
         ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
         ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
         ' w' || (1 + floor(20000 * power(random(), 4)))::int || ' w' || (1 + floor(20000 * power(random(), 4)))::int ||
         case n % 10 when 0 then ' привет' || (n % 1000) when 5 then ' café' || (n % 1000) else '' end
$$;
\ir history_data.sql
