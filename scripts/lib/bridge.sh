# shellcheck shell=bash
# The bridge daemon.
# Sourced by ./mqchat (after common.sh); not run on its own.

# The path is read when the bridge starts: `sanitize` switches BUILD to the ASan tree first.
bridge_start() {
  local BRIDGE_BIN=$BUILD/bridge/mqchat-bridge
  [ -x "$BRIDGE_BIN" ] || return 0
  pid_alive "$RUN/bridge.pid" && return 0
  sanitizer_env bridge
  # Webhook notifications (config/notify.yaml) when MQCHAT_NOTIFY_CONFIG names a settings file.
  local notify=()
  [ -n "${MQCHAT_NOTIFY_CONFIG:-}" ] && notify=(--notify-config "$MQCHAT_NOTIFY_CONFIG")
  env "${SAN_ENV[@]}" nohup "$BRIDGE_BIN" --mqtt-host 127.0.0.1 --mqtt-port "$BROKER_MQTT_PORT" --password-file "$RUN/bridge.password" \
    --dsn "$(dsn)" --metrics-port "$BRIDGE_METRICS_PORT" "${notify[@]}" >>"$RUN/bridge.log" 2>&1 </dev/null &
  echo $! >"$RUN/bridge.pid"
  disown  # tests kill it on purpose: no "Killed" job notice from this shell
}
