# shellcheck shell=bash
# HAProxy: the public listeners in front of the broker.
# Sourced by ./mqchat (after common.sh); not run on its own.

PROXY_CONNECT_TIMEOUT=${MQCHAT_CONNECT_TIMEOUT:-5s}   # a complete CONNECT / TLS handshake / HTTP request within this
PROXY_PER_SOURCE=${MQCHAT_MAX_CONNECTIONS_PER_SOURCE:-100}
PROXY_PER_SOURCE_RATE=${MQCHAT_MAX_CONNECT_RATE_PER_SOURCE:-300}  # new connections per 10 s
PROXY_TRUSTED=${MQCHAT_PROXY_TRUSTED:-}  # addresses exempt from the per-source limits (space-separated)

write_proxy_config() {
  local tls_mqtt="" tls_ws="" user="" trusted="" f
  if [ -f "$RUN/tls/enabled" ]; then
    tls_pem
    tls_mqtt="bind $BIND:$MQTTS_PORT ssl crt $RUN/tls/server.pem"
    tls_ws="bind $BIND:$WSS_PORT ssl crt $RUN/tls/server.pem"
  fi
  [ "$(id -u)" -eq 0 ] && id haproxy >/dev/null 2>&1 && user="user haproxy"
  [ -n "$PROXY_TRUSTED" ] && trusted="tcp-request connection accept if { src $PROXY_TRUSTED }"
  f=$ROOT/config/haproxy.cfg.in
  sed -e "s|@MAXCONN@|$MAX_CONNECTIONS|g; s|@BIND@|$(proxy_bind_addr)|g; s|@MQTT_PORT@|$MQTT_PORT|g; s|@WS_PORT@|$WS_PORT|g" \
      -e "s|@BROKER_MQTT_PORT@|$BROKER_MQTT_PORT|g; s|@BROKER_WS_PORT@|$BROKER_WS_PORT|g" \
      -e "s|@MQTTS_BIND@|$tls_mqtt|; s|@WSS_BIND@|$tls_ws|; s|@GLOBAL_USER@|$user|" \
      -e "s|@CONNECT_TIMEOUT@|$PROXY_CONNECT_TIMEOUT|g; s|@PER_SOURCE@|$PROXY_PER_SOURCE|g" \
      -e "s|@PER_SOURCE_RATE@|$PROXY_PER_SOURCE_RATE|g" \
      -e "s|^\(  tcp-request connection track-sc0 .*\)$|\1\n  $trusted|" \
      "$f" >"$RUN/haproxy.cfg"
  grep -v "^#" "$RUN/haproxy.cfg" | grep -q "@[A-Z_]*@" && die "unfilled setting in $RUN/haproxy.cfg"
  haproxy -c -q -f "$RUN/haproxy.cfg" || die "bad HAProxy configuration ($RUN/haproxy.cfg from $f)"
}

# HAProxy wants an IPv6 address in brackets-free "ipv6@" form.
proxy_bind_addr() { case $BIND in *:*) echo "ipv6@$BIND" ;; *) echo "$BIND" ;; esac; }

proxy_start() {
  pid_alive "$RUN/haproxy.pid" && return 0
  command -v haproxy >/dev/null || die "HAProxy is not installed (./mqchat up installs it)"
  # Where to look for the listeners: the bound address, or loopback when bound to every address.
  local probe=$BIND
  case $BIND in 0.0.0.0) probe=127.0.0.1 ;; ::|'[::]') probe=::1 ;; esac
  port_open "$MQTT_PORT" "$probe" && die "port $MQTT_PORT is taken (another broker?); set MQCHAT_MQTT_PORT"
  port_open "$WS_PORT" "$probe" && die "port $WS_PORT is taken; set MQCHAT_WS_PORT"
  write_proxy_config
  nohup haproxy -db -f "$RUN/haproxy.cfg" >>"$RUN/haproxy.log" 2>&1 </dev/null &
  echo $! >"$RUN/haproxy.pid"
  disown
  local i
  for i in $(seq 100); do
    port_open "$MQTT_PORT" "$probe" && port_open "$WS_PORT" "$probe" && pid_alive "$RUN/haproxy.pid" && return 0
    pid_alive "$RUN/haproxy.pid" || break
    sleep 0.1
  done
  tail -n 20 "$RUN/haproxy.log" >&2 || true
  die "HAProxy did not start (log: $RUN/haproxy.log)"
}
