# shellcheck shell=bash
# Mosquitto with the plugin on its loopback ports.
# Sourced by ./mqchat (after common.sh); not run on its own.

plugin_so() { echo "${MQCHAT_PLUGIN:-$BUILD/plugin/mqchat_plugin.so}"; }

# Broker limits (mosquitto.conf(5)); every one of them bounds what a client can make the broker hold.
MAX_CONNECTIONS=${MQCHAT_MAX_CONNECTIONS:-2000}          # per public listener (HAProxy); the broker allows a few more
MAX_PACKET_BYTES=${MQCHAT_MAX_PACKET_BYTES:-8388608}     # > the bridge's largest reply: 200 stored messages of 4000 characters
MAX_QUEUED_MESSAGES=${MQCHAT_MAX_QUEUED_MESSAGES:-1000}  # per client session, online or offline; history has the rest
MAX_QUEUED_BYTES=${MQCHAT_MAX_QUEUED_BYTES:-8388608}
BROKER_MEMORY_LIMIT=${MQCHAT_BROKER_MEMORY_LIMIT:-1073741824}  # the broker's own heap, a backstop (0 = none)
SESSION_EXPIRY=${MQCHAT_SESSION_EXPIRY:-14d}             # offline persistent sessions are dropped after this

# The browser page: only its own files, copied where the broker's http_dir points (never the source
# tree with install.sh, package*.json and node_modules/).
PAGE_FILES=(index.html app.js protocol.js style.css node_modules/mqtt/dist/mqtt.min.js)
write_web_root() {
  local src=$ROOT/client-demo/web dst=$RUN/web f
  rm -rf "$dst"
  mkdir -p "$dst"
  for f in "${PAGE_FILES[@]}"; do
    [ -f "$src/$f" ] || continue
    mkdir -p "$dst/$(dirname "$f")"
    cp "$src/$f" "$dst/$f"
  done
}

write_broker_config() {
  mkdir -p "$RUN/spool" "$RUN/mosquitto"
  [ -s "$RUN/bridge.password" ] || { (umask 077; openssl rand -hex 24 >"$RUN/bridge.password"); }
  write_web_root
  local broker_max=$((MAX_CONNECTIONS + 100))  # HAProxy's connections plus the bridge and local tools
  cat >"$RUN/mosquitto.conf" <<EOF
# Written by ./mqchat up; edit config/mqchat.yaml or this script instead.
per_listener_settings false
allow_anonymous false
persistence true
persistence_location $RUN/mosquitto/
autosave_interval 60
max_packet_size $MAX_PACKET_BYTES
max_queued_messages $MAX_QUEUED_MESSAGES
max_queued_bytes $MAX_QUEUED_BYTES
persistent_client_expiration $SESSION_EXPIRY
$([ "$BROKER_MEMORY_LIMIT" != 0 ] && echo "memory_limit $BROKER_MEMORY_LIMIT")
log_dest file $RUN/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
pid_file $RUN/mosquitto.pid
user $ME

plugin $(plugin_so)
plugin_opt_config $CONFIG
plugin_opt_database.dsn $(dsn)
plugin_opt_spool.dir $RUN/spool
plugin_opt_service_accounts.bridge.password_file $RUN/bridge.password
plugin_opt_metrics.port $METRICS_PORT
$(for kv in ${MQCHAT_PLUGIN_OPTS:-}; do echo "plugin_opt_${kv%%=*} ${kv#*=}"; done)

# Loopback only: the public listeners are HAProxy's (.run/haproxy.cfg).
listener $BROKER_MQTT_PORT 127.0.0.1
protocol mqtt
max_connections $broker_max

# A websockets listener takes an interface name, not an address: "127.0.0.1" here would listen on
# every interface (Mosquitto 2.0.11 hands it to libwebsockets as an interface name).
listener $BROKER_WS_PORT lo
protocol websockets
max_connections $broker_max
http_dir $RUN/web
EOF
}

# The broker's loopback ports skip HAProxy's checks, so other local OS users may not connect to them:
# an nftables rule (root stacks only; a non-root stack cannot set one) lets through the stack's own
# user, root and HAProxy's user, and resets everyone else's connections.
guard_table() { echo "mqchat_broker_$BROKER_MQTT_PORT"; }
broker_guard_up() {
  [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null || return 0
  local uids
  uids=$({ echo 0; id -u; id -u haproxy 2>/dev/null; } | sort -un | paste -sd, -)
  nft delete table inet "$(guard_table)" 2>/dev/null || true
  nft -f - <<EOF || say "warning: could not install the nftables rule guarding ports $BROKER_MQTT_PORT/$BROKER_WS_PORT"
table inet $(guard_table) {
  chain output {
    type filter hook output priority 0; policy accept;
    tcp dport { $BROKER_MQTT_PORT, $BROKER_WS_PORT } meta skuid != { $uids } reject with tcp reset
  }
}
EOF
}
broker_guard_down() {
  [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null || return 0
  nft delete table inet "$(guard_table)" 2>/dev/null || true
}

broker_start() {
  if pid_alive "$RUN/mosquitto.pid"; then
    grep -q "^listener $BROKER_MQTT_PORT " "$RUN/mosquitto.conf" 2>/dev/null && return 0
    # Started by an older ./mqchat on the public port, which HAProxy takes now.
    say "restarting the broker on its loopback port $BROKER_MQTT_PORT"
    stop_pidfile "$RUN/mosquitto.pid"
    stop_pidfile "$RUN/bridge.pid"
  fi
  [ -f "$(plugin_so)" ] || die "the plugin is not built (run ./mqchat up)"
  port_open "$BROKER_MQTT_PORT" && die "port $BROKER_MQTT_PORT is taken (another broker?); set MQCHAT_BROKER_MQTT_PORT"
  port_open "$BROKER_WS_PORT" && die "port $BROKER_WS_PORT is taken; set MQCHAT_BROKER_WS_PORT"
  write_broker_config
  broker_guard_up
  rm -f "$RUN/mosquitto.pid"
  # File descriptors: one per connection on each listener, plus the spool, Postgres and the log.
  ( ulimit -n $((2 * (MAX_CONNECTIONS + 100) + 256)) 2>/dev/null || true
    exec mosquitto -c "$RUN/mosquitto.conf" -d )
  local i
  for i in $(seq 100); do
    port_open "$BROKER_MQTT_PORT" && pid_alive "$RUN/mosquitto.pid" && return 0
    sleep 0.1
  done
  tail -n 20 "$RUN/mosquitto.log" >&2 || true
  die "Mosquitto did not start (log: $RUN/mosquitto.log)"
}
