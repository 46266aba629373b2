# shellcheck shell=bash
# Installing what the stack needs: Debian packages and the browser page's npm packages.
# Sourced by ./mqchat (after common.sh); not run on its own.

APT_PACKAGES=(
  build-essential cmake pkg-config g++ openssl procps psmisc iproute2
  mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev libpqxx-dev postgresql postgresql-contrib
  libyaml-cpp-dev libgtest-dev libgmock-dev nlohmann-json3-dev libssl-dev libcrypt-dev uuid-dev
  zlib1g-dev libjwt-dev libbenchmark-dev libcli11-dev valgrind clang tmux chromium haproxy nftables
  prometheus-cpp-dev redis-server redis-sentinel libhiredis-dev
  libcurl4-openssl-dev  # the bridge's webhook notifications (bridge/notifier.cpp)
  lintian systemd file binutils  # the package checks (tests/package): lintian, systemd-analyze, file, nm
)

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  # Node.js may come from elsewhere with npm built in (Debian's npm package would conflict with it).
  command -v npm >/dev/null || missing+=(nodejs npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages: ${missing[*]} (run as root or install them)"
    SUDO=sudo
  else
    SUDO=
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The distribution's own broker and cluster are not ours: keep them from holding port 1883.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now mosquitto haproxy >/dev/null 2>&1 || true
  else
    $SUDO service mosquitto stop >/dev/null 2>&1 || true
    $SUDO service haproxy stop >/dev/null 2>&1 || true
  fi
}

install_web() {
  # The browser page's JavaScript dependencies (MQTT.js, playwright-core), from npm, once.
  [ -x "$ROOT/client-demo/web/install.sh" ] && "$ROOT/client-demo/web/install.sh"
  return 0
}
