#!/usr/bin/env bash
# What one message costs Postgres to insert, in backend instructions (callgrind): repeatable to a
# fraction of a percent, where the CPU time bench/insert_cost.sql reads from /proc moves ±10 %
# between runs. For each batch size it runs bench/insert_cost.sql in two fresh sessions, 20 and 70
# batches, and reports the difference over the 50 batches: the work per batch and per row without
# the session's start. Staging (the rows the shipper COPYs) is included; STMT='select 1' measures it
# alone.
#
#   bench/insert_instructions.sh [ROWS_PER_BATCH...]           (default: 10 100)
#   STMT='select 1' bench/insert_instructions.sh 100            staging alone
#   SETUP='alter index … set (fastupdate = off)' bench/insert_instructions.sh   try a layout
#
# A throwaway cluster under valgrind in a temporary directory (unix socket only), the migrations of
# sql/ and the benchmark's users; all of it is removed at the end. ~1 minute per batch size.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/common.sh"  # die, which postgres.sh's pg_bin uses
. "$ROOT/scripts/lib/postgres.sh"
command -v valgrind >/dev/null || die "insert_instructions.sh needs valgrind"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100)
STMT=${STMT:-select mqchat_ingest_staged()}

work=$(mktemp -d /tmp/mqchat-insert-instr.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/sock" "$work/out"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
cleanup() {
  as_pg "$(pg_bin)/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  [ -n "${server:-}" ] && wait "$server" 2>/dev/null  # valgrind writes its last files on the way out
  rm -rf "$work"
}
trap cleanup EXIT

as_pg "$(pg_bin)/initdb" -D "$work/data" -U mqchat --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# synchronous_commit off: waiting for the WAL flush is not the backend's CPU; autovacuum off: its
# workers are other processes and would only add noise to the backend measured.
as_pg valgrind --tool=callgrind --callgrind-out-file="$work/out/cg.%p" "$(pg_bin)/postgres" -D "$work/data" \
  -k "$work/sock" -c listen_addresses= -c synchronous_commit=off -c autovacuum=off >"$work/postgres.log" 2>&1 &
server=$!
DSN="host=$work/sock user=mqchat dbname=postgres"
for _ in $(seq 120); do psql "$DSN" -XAtqc 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
psql "$DSN" -XAtqc 'create database bench' >/dev/null
DSN="host=$work/sock user=mqchat dbname=bench"
for f in "$ROOT"/sql/[0-9]*.sql; do
  PGOPTIONS="-c client_min_messages=warning" psql "$DSN" -X -q -v ON_ERROR_STOP=1 --single-transaction -f "$f" >/dev/null
done
psql "$DSN" -X -q -v n=8 -v prefix=bench -v pw=x -f "$ROOT/bench/users.sql" >/dev/null
[ -n "${SETUP:-}" ] && psql "$DSN" -X -q -v ON_ERROR_STOP=1 -c "$SETUP" >/dev/null

# Instructions of one session that runs NB batches of BS rows.
session() {
  local pid
  pid=$(psql "$DSN" -X -q -At -v label=x -v nb="$1" -v bs="$2" -v stmt="$STMT" \
          -c 'select pg_backend_pid()' -f "$ROOT/bench/insert_cost.sql" | head -n 1)
  for _ in $(seq 300); do grep -qs '^summary:' "$work/out/cg.$pid" && break; sleep 0.2; done
  awk '/^summary:/ { print $2; exit }' "$work/out/cg.$pid"
}

printf '%-10s %18s %14s\n' rows/batch instructions/batch per-row
for bs in "${sizes[@]}"; do
  a=$(session 20 "$bs"); b=$(session 70 "$bs")
  per_batch=$(( (b - a) / 50 ))
  printf '%-10s %18s %14s\n' "$bs" "$per_batch" "$(( per_batch / bs ))"
done
