# shellcheck shell=bash
# Building: a CMake configure preset (CMakePresets.json) into $BUILD.
# Sourced by ./mqchat (after common.sh); not run on its own.

PRESET=${MQCHAT_PRESET:-default}  # default | sanitize | bench (CMakePresets.json)

build() {
  say "building into $BUILD"
  local type=()
  [ -n "${MQCHAT_BUILD_TYPE:-}" ] && type=(-DCMAKE_BUILD_TYPE="$MQCHAT_BUILD_TYPE")
  # shellcheck disable=SC2086  # MQCHAT_CMAKE_ARGS is a list of arguments
  cmake --preset "$PRESET" -S "$ROOT" -B "$BUILD" "${type[@]}" ${MQCHAT_CMAKE_ARGS:-} >/dev/null \
    || die "cmake configure failed"
  if ! cmake --build "$BUILD" -j"$(nproc)" 2>&1 | { grep -Ev '^\[ *[0-9]+%\]|^(Consolidate|Scanning|Built target)' || true; }
  then die "build failed"; fi
}
