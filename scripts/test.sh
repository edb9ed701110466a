#!/usr/bin/env bash
# The whole test suite: `make test` runs `scripts/test.sh all`.
#   unit  BUILD    cmocka unit tests of one build tree
#   system BUILD   pytest system tests against the binaries of one build tree
#   all            deps, both builds (plain and ASan+UBSan), unit + system tests on
#                  each, bounded fuzzing; ends with "N passed, N failed"
set -uo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
JOBS=${JOBS:-2}
pass=0
fail=0
failed_names=()

# Runs every unit test binary of a build tree.
run_unit() {
  local build=$1
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed_names+=("$t"); fi
  done
}

# Runs the pytest system tests against a build tree's binaries.
run_system() {
  local build=$1 label=$2
  local junit="$build/system-junit.xml"
  YX_BIN="$PWD/$build/bin" $PY -m pytest -q -p no:cacheprovider tests/system --junitxml="$junit" "${PYTEST_ARGS[@]}"
  local rc=$?
  local counts
  counts=$($PY - "$junit" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    t, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(t - f - e - sk, f + e)
except Exception:
    print(0, 1)
PYEOF
)
  pass=$((pass + ${counts% *}))
  fail=$((fail + ${counts#* }))
  [ $rc -eq 0 ] || failed_names+=("system tests ($label)")
}

PYTEST_ARGS=()
case "${1:-all}" in
  unit) run_unit "${2:-build}" ;;
  system) run_system "${2:-build}" "${2:-build}" ;;
  all)
    scripts/deps.sh || { echo "dependency installation failed"; exit 1; }
    make -j"$JOBS" all || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
    run_unit build
    run_system build plain
    make -j"$JOBS" SAN=1 all || { echo "sanitizer build failed"; fail=$((fail + 1)); }
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_unit build-asan
    run_system build-asan asan
    if [ -x scripts/fuzz.sh ]; then
      if scripts/fuzz.sh; then pass=$((pass + 1)); else fail=$((fail + 1)); failed_names+=("fuzz"); fi
    fi
    ;;
  *) echo "usage: scripts/test.sh all | unit BUILD | system BUILD" >&2; exit 2 ;;
esac

if [ ${#failed_names[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
