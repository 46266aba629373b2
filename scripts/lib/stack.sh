# shellcheck shell=bash
# The development stack's commands: up, down, status, logs, svc.
# Sourced by ./mqchat (after common.sh); not run on its own.

cmd_up() {
  local install=1 do_build=1 tls=0
  for a in "$@"; do
    case $a in
      --no-install) install=0 ;;
      --no-build) do_build=0 ;;
      --tls) tls=1 ;;
      *) die "up: unknown option $a" ;;
    esac
  done
  [ $install = 1 ] && install_packages
  install_web
  [ $do_build = 1 ] && build
  mkdir -p "$RUN"
  if [ $tls = 1 ] && [ ! -f "$RUN/tls/enabled" ]; then
    tls_init
    stop_pidfile "$RUN/haproxy.pid"  # a running proxy has no TLS listeners yet
  fi
  pg_start
  migrate
  broker_start
  bridge_start
  proxy_start
  [ -n "${MQCHAT_QUIET:-}" ] && return 0
  cat <<EOF

mqchat is up (public listeners: HAProxy on $BIND; the broker itself on 127.0.0.1:$BROKER_MQTT_PORT/$BROKER_WS_PORT).
  MQTT        $BIND:$MQTT_PORT        (mosquitto_pub/sub -p $MQTT_PORT -u NAME -P PASSWORD)
  WebSocket   ws://$BIND:$WS_PORT/mqtt   browser page: http://$BIND:$WS_PORT/
$([ -f "$RUN/tls/enabled" ] && printf '  MQTT+TLS    127.0.0.1:%s        (mosquitto_pub/sub -p %s --cafile %s ...)\n  WSS         wss://localhost:%s/mqtt  (trust the same ca.crt)\n' "$MQTTS_PORT" "$MQTTS_PORT" "$RUN/tls/ca.crt" "$WSS_PORT")
  Postgres    ./mqchat psql               ($(dsn))
  Logs        ./mqchat logs

Next: ./mqchat user add alice; ./mqchat user add bob
      mosquitto_sub -p $MQTT_PORT -u bob -P … -t 'chat/alice_bob/#' -v
      mosquitto_pub -p $MQTT_PORT -u alice -P … -t chat/alice_bob/messages -m hello
EOF
}

cmd_down() {
  stop_pidfile "$RUN/haproxy.pid"
  stop_pidfile "$RUN/bridge.pid"
  stop_pidfile "$RUN/mosquitto.pid"
  broker_guard_down
  pg_stop fast
  say "stopped"
}

cmd_status() {
  local s
  s=stopped; pid_alive "$RUN/haproxy.pid" && s="running (pid $(cat "$RUN/haproxy.pid"), $BIND port $MQTT_PORT, ws $WS_PORT)"
  echo "haproxy:  $s"
  s=stopped; pid_alive "$RUN/mosquitto.pid" && s="running (pid $(cat "$RUN/mosquitto.pid"), 127.0.0.1 port $BROKER_MQTT_PORT, ws $BROKER_WS_PORT)"
  echo "broker:   $s"
  s=stopped; pid_alive "$RUN/bridge.pid" && s="running (pid $(cat "$RUN/bridge.pid"))"
  echo "bridge:   $s"
  if external_db; then echo "postgres: external ($MQCHAT_DATABASE_URL)"
  else s=stopped; pg_running && s="running ($(dsn))"; echo "postgres: $s"; fi
  pid_alive "$RUN/mosquitto.pid" && pid_alive "$RUN/haproxy.pid"
}

cmd_logs() {
  local files=()
  for f in "$RUN/haproxy.log" "$RUN/mosquitto.log" "$RUN/bridge.log" "$RUN/pg/postgres.log"; do [ -f "$f" ] && files+=("$f"); done
  [ ${#files[@]} -gt 0 ] || die "no logs yet in $RUN"
  if [ "${1:-}" = -f ]; then tail -n 50 -F "${files[@]}"; else tail -n 50 "${files[@]}"; fi
}


cmd_svc() {  # svc start|stop|kill|restart postgres|broker|bridge  (used by the durability tests)
  local action=${1:-} service=${2:-}
  case "$service:$action" in
    postgres:start) pg_start ;;
    postgres:stop) pg_stop fast ;;
    postgres:kill) pg_stop kill ;;
    postgres:restart) pg_stop fast; pg_start ;;
    broker:start) broker_start ;;
    broker:stop) stop_pidfile "$RUN/mosquitto.pid" ;;
    broker:kill) stop_pidfile "$RUN/mosquitto.pid" KILL ;;
    broker:restart) stop_pidfile "$RUN/mosquitto.pid"; broker_start ;;
    bridge:start) bridge_start ;;
    bridge:stop) stop_pidfile "$RUN/bridge.pid" ;;
    bridge:kill) stop_pidfile "$RUN/bridge.pid" KILL ;;
    bridge:restart) stop_pidfile "$RUN/bridge.pid"; bridge_start ;;
    proxy:start) proxy_start ;;
    proxy:stop) stop_pidfile "$RUN/haproxy.pid" ;;
    proxy:kill) stop_pidfile "$RUN/haproxy.pid" KILL ;;
    proxy:restart) stop_pidfile "$RUN/haproxy.pid"; proxy_start ;;
    *) die "usage: ./mqchat svc start|stop|kill|restart postgres|broker|bridge|proxy" ;;
  esac
}
