# shellcheck shell=bash
# Settings every part of ./mqchat reads, and the small helpers they share.
# Sourced first by ./mqchat, which sets ROOT; the other scripts/lib/*.sh rely on it.

RUN=${MQCHAT_RUN_DIR:-$ROOT/.run}
BUILD=${MQCHAT_BUILD_DIR:-$ROOT/build}
MQTT_PORT=${MQCHAT_MQTT_PORT:-1883}
WS_PORT=${MQCHAT_WS_PORT:-9001}
MQTTS_PORT=${MQCHAT_MQTTS_PORT:-8883}
WSS_PORT=${MQCHAT_WSS_PORT:-9443}
# The public listeners above are HAProxy's (config/haproxy.cfg.in); the broker itself listens on
# these loopback ports, used by HAProxy, the bridge and the benchmarks only.
BROKER_MQTT_PORT=${MQCHAT_BROKER_MQTT_PORT:-11883}
BROKER_WS_PORT=${MQCHAT_BROKER_WS_PORT:-19001}
# Prometheus metrics of the plugin and of the bridge (loopback; docs/OPERATIONS.md), 0 = off.
METRICS_PORT=${MQCHAT_METRICS_PORT:-9883}
BRIDGE_METRICS_PORT=${MQCHAT_BRIDGE_METRICS_PORT:-9884}
# Where the public listeners bind: loopback unless exposed on purpose (0.0.0.0, ::, or an address).
BIND=${MQCHAT_BIND:-127.0.0.1}
CONFIG=${MQCHAT_CONFIG:-$ROOT/config/mqchat.yaml}
ME=$(id -un)
# While `./mqchat cluster up` runs, psql, dsn and user add reach the cluster's Postgres.
[ -z "${MQCHAT_DATABASE_URL:-}" ] && [ -s "$RUN/cluster/dsn" ] && export MQCHAT_DATABASE_URL=$(<"$RUN/cluster/dsn")

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'mqchat: %s\n' "$*" >&2; exit 1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

stop_pidfile() {  # stop_pidfile FILE [SIGNAL]
  local file=$1 sig=${2:-TERM} pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  kill -"$sig" "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

free_ports() {  # free_ports N: N distinct ports nothing listens on
  # Below the kernel's ephemeral range, so no outgoing connection holds one when it is bound.
  local p got=" " low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 21000 ] || low=50000
  while [ $(($(wc -w <<<"$got"))) -lt "$1" ]; do
    p=$((20000 + RANDOM % (low - 20000)))
    [[ $got == *" $p "* ]] || port_open "$p" || got+="$p "
  done
  echo $got
}

