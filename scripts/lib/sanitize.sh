# shellcheck shell=bash
# ASan/UBSan builds and the sanitize command.
# Sourced by ./mqchat (after common.sh); not run on its own.

# A build made with -DMQCHAT_SANITIZE=ON (./mqchat sanitize): its bridge writes ASan/UBSan/LSan
# reports to $RUN/sanitizer/bridge.PID, which sanitizer_reports reads after it stops. The broker
# keeps the plain plugin (MQCHAT_PLUGIN): preloading ASan into the uninstrumented Mosquitto makes
# libpq hang in glibc's gettext lock, so the plugin inside the broker is checked by valgrind instead
# (bench/run memcheck).
sanitized_build() { grep -q '^MQCHAT_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; }

sanitizer_env() {  # sanitizer_env NAME: SAN_ENV = settings for `env` that run NAME sanitized, if the build is
  SAN_ENV=()
  sanitized_build || return 0
  mkdir -p "$RUN/sanitizer"
  SAN_ENV+=("ASAN_OPTIONS=log_path=$RUN/sanitizer/$1:detect_leaks=1"
            "UBSAN_OPTIONS=log_path=$RUN/sanitizer/$1:print_stacktrace=1"
            "LSAN_OPTIONS=suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0")
}

sanitizer_reports() {  # prints the reports the daemons wrote; fails if there is any
  local f status=0
  for f in "$RUN"/sanitizer/*; do
    [ -s "$f" ] || continue
    status=1; echo "---- $f" >&2; cat "$f" >&2
  done
  return $status
}

# The plugin's and the bridge's suites again, built with ASan + UBSan, against a stack whose bridge
# is sanitized too; then the plugin inside the real broker under valgrind memcheck over a load run.
cmd_sanitize() {
  build  # the plain build: its plugin runs in the broker, its load generator drives memcheck
  local plain=$BUILD
  export MQCHAT_PLUGIN=$plain/plugin/mqchat_plugin.so
  BUILD=$ROOT/build-asan PRESET=sanitize
  build
  RUN=$RUN/test-asan
  test_stack_up
  # Test programs report to stderr and fail on the spot; the bridge's reports are read below.
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
         LSAN_OPTIONS="suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0"
  local status=0
  say "plugin and bridge tests under ASan + UBSan (the broker-only suites are not built here)"
  run_ctest "$@" || status=1
  no_ingest_rejects || status=1
  test_stack_down  # a clean stop: the bridge writes its leak report as it exits
  say "sanitizer reports of the bridge daemon"
  sanitizer_reports && echo "none" >&2 || status=1
  say "the plugin inside Mosquitto under valgrind memcheck, over a load run"
  # 4 pairs x 3,000 messages: every path of the load (publish, spool, ship, deliver, dedup) many
  # times over; 40,000 took five minutes of CI under valgrind (./bench/run memcheck for more).
  MQCHAT_BUILD_DIR=$plain "$ROOT/bench/run" memcheck --pairs 4 --messages 3000 --out "$RUN/memcheck" || status=1
  [ $status -eq 0 ] && say "sanitized tests passed" || say "SANITIZED TESTS FAILED (logs in $RUN)"
  return $status
}
