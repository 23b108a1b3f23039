#!/usr/bin/env bash
# Installs the Debian packages Tern needs to build, test and run, if missing.
# Debian 12, as root (or with sudo). Safe to run repeatedly.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git ca-certificates python3 ragel re2c
      libuv1-dev libsodium-dev zlib1g-dev libdeflate-dev libssl-dev libyaml-dev clang libclang-rt-14-dev
      nodejs npm procps iproute2)
# Packages whose command may come from elsewhere: a node from another repository
# (e.g. NodeSource's nodejs, which bundles npm and conflicts with Debian's npm)
# satisfies them, and installing Debian's would break apt.
declare -A by_command=([nodejs]=node [npm]=npm)
missing=()
for p in "${pkgs[@]}"; do
  if [ -n "${by_command[$p]:-}" ] && command -v "${by_command[$p]}" >/dev/null 2>&1; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
