#!/usr/bin/env bash
# Installs the page's JavaScript dependencies (MQTT.js for the browser, playwright-core for its
# end-to-end test) from npm, exactly as locked. Called by `./mqchat up`; a no-op once installed.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/mqtt/dist/mqtt.min.js ] && [ -d node_modules/playwright-core ] &&
   [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
