# shellcheck shell=bash
# Postgres: the embedded cluster in $RUN/pg (or an external database in MQCHAT_DATABASE_URL).
# Sourced by ./mqchat (after common.sh); not run on its own.

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || die "PostgreSQL is not installed (./mqchat up installs it)"
  echo "$d"
}

# Postgres refuses to run as root: a root shell runs the cluster as the `postgres` user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_data() { echo "$RUN/pg/data"; }

# Unix socket paths are limited to 107 bytes; a deep checkout gets its socket under /tmp.
pg_socket_dir() {
  local d="$RUN/pg/socket"
  if [ ${#d} -gt 80 ]; then d="/tmp/mqchat-pg-$(echo -n "$RUN" | md5sum | cut -c1-12)"; fi
  echo "$d"
}

# MQCHAT_DATABASE_URL names an external database, unless this script exported it for its own tests.
external_db() { [ -n "${MQCHAT_DATABASE_URL:-}" ] && [ -z "${MQCHAT_EMBEDDED_DATABASE:-}" ]; }

# The embedded cluster takes scram-sha-256 passwords only; mqchat's is generated once and kept in a
# libpq password file readable by this user alone (the DSN names the file, never the password).
pg_passfile() { echo "$RUN/pgpass"; }

dsn() {
  if external_db; then echo "$MQCHAT_DATABASE_URL"
  else echo "host=$(pg_socket_dir) port=5432 user=mqchat dbname=mqchat passfile=$(pg_passfile)"; fi
}

pg_password() {  # prints mqchat's database password, made on first use
  local f; f=$(pg_passfile)
  if [ ! -s "$f" ]; then (umask 077; echo "*:*:*:mqchat:$(openssl rand -hex 24)" >"$f"); fi
  chmod 600 "$f"
  cut -d: -f5 "$f"
}

pg_running() { ! external_db && as_pg "$(pg_bin)/pg_ctl" -D "$(pg_data)" status >/dev/null 2>&1; }

pg_start() {
  external_db && return 0
  local bin data sock pw
  bin=$(pg_bin); data=$(pg_data); sock=$(pg_socket_dir)
  mkdir -p "$RUN/pg" "$sock"
  # The socket's directory and the socket itself: the cluster's OS owner only (and root).
  chmod 700 "$sock"
  pw=$(pg_password)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$RUN/pg" "$sock"
    runuser -u postgres -- test -x "$RUN/pg" || die "user postgres cannot reach $RUN/pg (make its parents world-executable or set MQCHAT_RUN_DIR)"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating the embedded Postgres cluster in $data"
    (umask 077; echo "$pw" >"$RUN/pg/initdb.pw")
    [ "$(id -u)" -eq 0 ] && chown postgres: "$RUN/pg/initdb.pw"
    as_pg "$bin/initdb" -D "$data" -U mqchat --auth=scram-sha-256 --pwfile="$RUN/pg/initdb.pw" -E UTF8 \
      --locale=C.UTF-8 >"$RUN/pg/initdb.log" 2>&1 || { rm -f "$RUN/pg/initdb.pw"; cat "$RUN/pg/initdb.log" >&2; die "initdb failed"; }
    rm -f "$RUN/pg/initdb.pw"
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF
# mqchat: unix socket only, reachable by this cluster's OS owner only, no clash with a system Postgres
listen_addresses = ''
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = 256MB
synchronous_commit = on
log_min_messages = warning
EOF
  fi
  pg_running || as_pg "$bin/pg_ctl" -D "$data" -l "$RUN/pg/postgres.log" -w -t 60 start >/dev/null \
    || { tail -n 20 "$RUN/pg/postgres.log" >&2; die "Postgres did not start"; }
  pg_secure_old_cluster
  psql "$(dsn) dbname=postgres" -X -tAc "select 1 from pg_database where datname = 'mqchat'" | grep -q 1 \
    || psql "$(dsn) dbname=postgres" -X -qc "create database mqchat" \
    || die "cannot reach the embedded Postgres as mqchat (password file $(pg_passfile))"
}

# A cluster made by an older ./mqchat trusted every local connection on a world-writable socket:
# give mqchat its password, then require it and close the socket to others.
pg_secure_old_cluster() {
  local data sock
  data=$(pg_data); sock=$(pg_socket_dir)
  as_pg grep -Eq '^[^#]*[[:space:]]trust[[:space:]]*$' "$data/pg_hba.conf" || return 0
  say "switching the embedded Postgres from trust to scram-sha-256 passwords"
  printf "alter role mqchat password '%s';\n" "$(pg_password)" |
    as_pg psql -h "$sock" -U mqchat -d postgres -X -q -v ON_ERROR_STOP=1 || die "could not set mqchat's password"
  as_pg sed -i -E 's/[[:space:]]trust[[:space:]]*$/ scram-sha-256/' "$data/pg_hba.conf"
  printf "unix_socket_permissions = 0700\npassword_encryption = 'scram-sha-256'\n" | as_pg tee -a "$data/postgresql.conf" >/dev/null
  as_pg "$(pg_bin)/pg_ctl" -D "$data" -l "$RUN/pg/postgres.log" -w -t 60 restart >/dev/null || die "Postgres did not restart"
}

pg_stop() {
  external_db && return 0
  [ -f "$(pg_data)/PG_VERSION" ] || return 0
  local mode=${1:-fast}
  if [ "$mode" = kill ]; then
    local pid; pid=$(head -n 1 "$(pg_data)/postmaster.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    return 0
  fi
  as_pg "$(pg_bin)/pg_ctl" -D "$(pg_data)" -m "$mode" -w stop >/dev/null 2>&1 || true
}
