# shellcheck shell=bash
# The test command and its throwaway stack.
# Sourced by ./mqchat (after common.sh); not run on its own.

# A throwaway stack of its own in $RUN: fresh cluster, broker and bridge on free ports, and the
# environment the tests read (tests/support/stack.cpp).
test_stack_up() {
  unset MQCHAT_DATABASE_URL
  # Tests send bursts from one user and open many connections: per-user limits are lifted here,
  # and tests/integration/limits_test.cpp restarts the broker with small ones to check them.
  export MQCHAT_PLUGIN_OPTS="${MQCHAT_PLUGIN_OPTS:-limits.messages_per_second=0 limits.max_connections_per_user=0}"
  export MQCHAT_RUN_DIR="$RUN" MQCHAT_MQTT_PORT MQCHAT_WS_PORT MQCHAT_ROOT="$ROOT" \
         MQCHAT_CLI="$ROOT/mqchat" MQCHAT_BUILD_DIR="$BUILD"
  export MQCHAT_MQTTS_PORT MQCHAT_WSS_PORT MQCHAT_BROKER_MQTT_PORT MQCHAT_BROKER_WS_PORT
  export MQCHAT_METRICS_PORT MQCHAT_BRIDGE_METRICS_PORT
  read -r MQCHAT_MQTT_PORT MQCHAT_WS_PORT MQCHAT_MQTTS_PORT MQCHAT_WSS_PORT MQCHAT_BROKER_MQTT_PORT MQCHAT_BROKER_WS_PORT \
    MQCHAT_METRICS_PORT MQCHAT_BRIDGE_METRICS_PORT <<<"$(free_ports 8)"
  MQTT_PORT=$MQCHAT_MQTT_PORT WS_PORT=$MQCHAT_WS_PORT MQTTS_PORT=$MQCHAT_MQTTS_PORT WSS_PORT=$MQCHAT_WSS_PORT
  BROKER_MQTT_PORT=$MQCHAT_BROKER_MQTT_PORT BROKER_WS_PORT=$MQCHAT_BROKER_WS_PORT
  METRICS_PORT=$MQCHAT_METRICS_PORT BRIDGE_METRICS_PORT=$MQCHAT_BRIDGE_METRICS_PORT
  # The tests themselves connect from 127.0.0.1, many times a second: that address is exempt from
  # the per-source limits here; the network attacks come from other loopback addresses (127.0.0.2…).
  export MQCHAT_PROXY_TRUSTED=${MQCHAT_PROXY_TRUSTED:-127.0.0.1}
  PROXY_TRUSTED=$MQCHAT_PROXY_TRUSTED
  test_stack_down
  rm -rf "$RUN"
  mkdir -p "$RUN"
  trap test_stack_down EXIT
  tls_init  # the test stack has TLS listeners too: tests/integration/tls_test.cpp uses them
  pg_start
  migrate
  broker_start
  bridge_start
  proxy_start
  export MQCHAT_DATABASE_URL MQCHAT_EMBEDDED_DATABASE=1 MQCHAT_BRIDGE_PASSWORD_FILE="$RUN/bridge.password"
  MQCHAT_DATABASE_URL=$(dsn)
  # Every test must run: a skipped test proves nothing here.
  export MQCHAT_STACK_REQUIRED=1
}
test_stack_down() { stop_pidfile "$RUN/haproxy.pid"; stop_pidfile "$RUN/bridge.pid"; stop_pidfile "$RUN/mosquitto.pid"; broker_guard_down; pg_stop immediate; }

# Whatever the tests did, nothing the plugin acknowledged may have been set aside by the shipper.
no_ingest_rejects() {
  local n
  n=$(psql_run -tAc "select count(*) from ingest_rejects") || { echo "cannot read ingest_rejects" >&2; return 1; }
  if [ "$n" != 0 ]; then
    say "ingest_rejects holds $n acknowledged message(s) Postgres refused:"
    psql_run -c "select * from ingest_rejects limit 20" >&2
    return 1
  fi
  say "ingest_rejects is empty: every acknowledged message was stored"
}

run_ctest() {  # run_ctest [CTEST ARGS]: fails when a test fails or was skipped
  local log="$RUN/ctest.log" status=0
  ctest --test-dir "$BUILD" --output-on-failure --timeout 600 "$@" 2>&1 | tee "$log" || status=1
  if grep -q '(Skipped)\|\*\*\*Skipped' "$log"; then echo "some tests were skipped" >&2; status=1; fi
  return $status
}

cmd_test() {
  local install=1
  [ "${1:-}" = --no-install ] && { install=0; shift; }
  [ $install = 1 ] && install_packages
  install_web  # project-local npm packages: needed by the browser test, a no-op once there
  build
  local status=0 base=$RUN
  RUN=$base/test
  test_stack_up
  say "SQL tests"
  "$ROOT/tests/sql/run" || status=1
  say "unit, integration and end-to-end tests"
  run_ctest "$@" || status=1
  no_ingest_rejects || status=1
  if [ $# -eq 0 ]; then  # the whole suite: each fuzz target for a short while, and the sanitizers
    say "fuzzing each target for 10 s (./mqchat fuzz SECONDS for longer)"
    "$ROOT/scripts/fuzz" 10 || status=1
    test_stack_down
    [ $status -eq 0 ] || { say "TESTS FAILED (logs in $RUN)"; return $status; }
    RUN=$base
    cmd_sanitize || status=1
  fi
  [ $status -eq 0 ] && say "all tests passed" || say "TESTS FAILED (logs in $RUN)"
  return $status
}
