#!/usr/bin/env bash
# Installs every Debian package Yixian needs to build, run and test.
# This file owns the package list; `make run` and `make test` call it.
# It only calls apt-get when something is missing, so it is cheap to re-run.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
  libhiredis-dev libconfig-dev libmicrohttpd-dev libjansson-dev
  libcurl4-openssl-dev libsodium-dev libcmocka-dev
  redis-server redis-tools
  clang libclang-rt-14-dev
  protobuf-compiler
  python3-pytest python3-requests python3-zmq python3-protobuf python3-redis
  python3-yaml python3-jsonschema openapi-specification
  prometheus
  chromium fonts-wqy-microhei
  curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian redis-server package starts a system instance; Yixian runs its own.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
echo "deps: done"
