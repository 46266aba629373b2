#!/usr/bin/env bash
# The memcheck verdict (scripts/memcheck-report) on made-up valgrind logs: a block still reachable
# at exit that mqchat's code allocated fails it; glibc's thread_local blocks and the broker's copies
# of what the plugin published (Mosquitto's from the call on) do not.
set -uo pipefail
report=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '{\n  "acked": 12000,\n  "lost": 0,\n  "all_acked_rows_present": true\n}\n' >"$dir/load.json"

# A log whose one still-reachable record has the frames given on stdin.
log_with() {
  {
    echo "==1== "
    echo "==1== 64 bytes in 1 blocks are still reachable in loss record 1 of 1"
    sed 's/^/==1==    /'
    echo "==1== "
    echo "==1== LEAK SUMMARY:"
    echo "==1==    definitely lost: 0 bytes in 0 blocks"
    echo "==1==    indirectly lost: 0 bytes in 0 blocks"
    echo "==1==      possibly lost: 0 bytes in 0 blocks"
    echo "==1==    still reachable: 64 bytes in 1 blocks"
    echo "==1== "
    echo "==1== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)"
  } >"$dir/valgrind.log"
}

failed=0
expect() {  # expect clean|dirty WHAT
  local got=clean
  "$report" "$dir/valgrind.log" "$dir/load.json" 2>/dev/null || got=dirty
  if [ "$got" = "$1" ]; then echo "PASS $2"; else echo "FAIL $2: $got, expected $1"; failed=1; fi
}

log_with <<'F'
at 0x48417B4: malloc (in vgpreload_memcheck-amd64-linux.so)
by 0x59ED61B: mqchat::Spool::append(std::string const&) (spool.cpp:80)
by 0x13785E: plugin__handle_tick (in /usr/sbin/mosquitto)
F
expect dirty "a block mqchat allocated and kept"

log_with <<'F'
at 0x48465EF: calloc (in vgpreload_memcheck-amd64-linux.so)
by 0x13800E: mosquitto_broker_publish_copy (in /usr/sbin/mosquitto)
by 0x59ED61B: mqchat::(anonymous namespace)::on_tick(int, void*, void*) (plugin.cpp:409)
F
expect clean "the broker's copy of a plugin publish still queued at exit"

log_with <<'F'
at 0x48417B4: malloc (in vgpreload_memcheck-amd64-linux.so)
by 0x40144E7: __tls_get_addr (tls_get_addr.S:55)
by 0x5A59CBE: mqchat::rfc3339_utc[abi:cxx11](long) (clock.cpp:53)
F
expect clean "glibc's block for a thread_local of the plugin"

log_with <<'F'
at 0x48417B4: malloc (in vgpreload_memcheck-amd64-linux.so)
by 0x12DEF0: mosquitto__malloc (in /usr/sbin/mosquitto)
by 0x11BBA9: main (in /usr/sbin/mosquitto)
F
expect clean "Mosquitto's own block"
exit $failed
