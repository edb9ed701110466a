#!/usr/bin/env bash
# `make bench`: benchmarks, not tests — figures for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(gcc --version | head -1)"
exec /usr/bin/python3 tests/bench/run_bench.py "${1:-build}"
