# shellcheck shell=bash
# The database side of administration: migrations and users. Shared by ./mqchat (the development
# stack) and mqchat-admin (an installed system, /usr/share/mqchat/lib/db.sh): both define say, die
# and dsn, and set SQL_DIR to the migrations.

PROG=${PROG:-./mqchat}

psql_run() { PGOPTIONS="-c client_min_messages=warning" psql "$(dsn)" -v ON_ERROR_STOP=1 -X -q "$@"; }

# Applies each sql/NNN_*.sql not yet in schema_migrations, each in one transaction with its record.
migrate() {
  psql_run -c "create table if not exists schema_migrations (
                 version text primary key, applied_at timestamptz not null default now())"
  local f v
  for f in "$SQL_DIR"/[0-9]*.sql; do
    v=$(basename "$f" .sql)
    [ -n "$(psql_run -tAc "select 1 from schema_migrations where version = '$v'")" ] && continue
    say "applying migration $v"
    psql_run --single-transaction -f "$f" -c "insert into schema_migrations (version) values ('$v')" \
      || die "migration $v failed"
  done
}

# user add NAME [--password PW]: create or update; user passwd NAME [--password PW]: an existing one.
# Without --password the password is read from stdin (prompted on a terminal).
cmd_user() {
  local usage="usage: $PROG user add|passwd NAME [--password PW]"
  local action=${1:-} name=${2:-} pw=""
  case $action in add|passwd) ;; *) die "$usage" ;; esac
  [ -n "$name" ] || die "$usage"
  shift 2
  while [ $# -gt 0 ]; do
    case $1 in
      --password) pw=${2:-}; shift 2 ;;
      --password=*) pw=${1#--password=}; shift ;;
      *) die "user $action: unknown option $1" ;;
    esac
  done
  if [ "$action" = passwd ] && [ -z "$(psql_run -v name="$name" -tA <<<"select 1 from profiles where username = :'name'")" ]; then
    die "no user $name"
  fi
  if [ -z "$pw" ]; then
    [ -t 0 ] && printf 'password for %s: ' "$name" >&2
    IFS= read -r -s pw || true
    [ -t 0 ] && echo >&2
  fi
  [ -n "$pw" ] || die "empty password"
  psql_run -v name="$name" -v pw="$pw" -tA >/dev/null <<'SQL'
insert into profiles (username, password_hash) values (:'name', crypt(:'pw', gen_salt('bf', 10)))
on conflict (username) do update set password_hash = excluded.password_hash;
SQL
  say "user $name is ready"
}
