#!/bin/sh
# Installs the ali-ons Node.js RocketMQ client (npm, version pinned) once per
# build directory, for the interop and conformance tests, and prints the
# node_modules directory to use. Several tests may call it at once: a lock
# makes the first install and the others wait.
#   usage: scripts/ali-ons.sh BUILD_DIR      (prints BUILD_DIR/ali-ons/node_modules)
# Exit 0: installed. Exit 77 (ctest's skip): node or npm is missing, or the npm
# registry cannot be reached and TERN_REQUIRE_INTEROP is not set — the test is
# reported as skipped with the reason. With TERN_REQUIRE_INTEROP=1 (CI), a
# failed install fails the test instead.
set -eu
version=3.12.0
build=${1:?usage: scripts/ali-ons.sh BUILD_DIR}
dir="$build/ali-ons"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are not installed (scripts/install-deps.sh installs nodejs and npm)" >&2
  exit 77
fi
mkdir -p "$dir"
have() { [ -f "$dir/node_modules/ali-ons/package.json" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/ali-ons/package.json"; }
(
  flock 9
  if ! have; then
    printf '{"name":"tern-ali-ons","version":"1.0.0","private":true,"dependencies":{"ali-ons":"%s"}}\n' "$version" >"$dir/package.json"
    echo "installing ali-ons $version with npm into $dir" >&2
    if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1); then
      cat "$dir/npm.log" >&2
      if [ "${TERN_REQUIRE_INTEROP:-}" = 1 ]; then
        echo "FAIL: could not install ali-ons from npm (TERN_REQUIRE_INTEROP=1)" >&2
        exit 1
      fi
      echo "SKIP: could not install ali-ons from the npm registry (see above); set TERN_REQUIRE_INTEROP=1 to fail instead" >&2
      exit 77
    fi
  fi
) 9>"$dir.lock"
echo "$dir/node_modules"
