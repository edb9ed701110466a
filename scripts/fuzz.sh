#!/usr/bin/env bash
# Builds every libFuzzer harness in tests/fuzz/ with clang (ASan+UBSan) and runs each
# for a bounded time on its corpus (tests/fuzz/corpus/<name>/). Crashes fail the run;
# new inputs found go to build-fuzz/new-corpus/<name>/, not into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-15}
OUT=build-fuzz
mkdir -p "$OUT/obj" "$OUT/gen"
CC=clang
PKGS="libzmq libprotobuf-c hiredis libconfig libmicrohttpd jansson libcurl libsodium"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -g -O1"
CFLAGS="-std=c11 -D_GNU_SOURCE $SAN -Iservices/common -Iservices/intake -Iservices/yxctl -Iservices/metrics -I$OUT/gen $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm -lpthread"

protoc-c --proto_path=proto --c_out="$OUT/gen" proto/yixian/v1/bus.proto
# Every decoder of outside input: the common code, intake, yxctl's CSV splitter and the
# metrics service's case parser. An archive, so a harness links only what it uses.
objs=()
for src in "$OUT"/gen/yixian/v1/bus.pb-c.c services/common/*.c services/intake/*.c \
           services/yxctl/csv.c services/metrics/mcase.c; do
  [ "$(basename "$src")" = main.c ] && continue
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
    $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done

rm -f "$OUT/libfuzzsrc.a"
ar rcs "$OUT/libfuzzsrc.a" "${objs[@]}"

status=0
for harness in tests/fuzz/fuzz_*.c; do
  name=$(basename "$harness" .c)
  corpus_name=${name#fuzz_}
  $CC $CFLAGS -fsanitize=fuzzer "$harness" "$OUT/libfuzzsrc.a" $LIBS -o "$OUT/$name"
  mkdir -p "$OUT/new-corpus/$corpus_name"
  echo "fuzz: $name for ${SECONDS_EACH}s"
  if ! LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp" \
       "$OUT/$name" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 -artifact_prefix="$OUT/" \
       -print_final_stats=0 "$OUT/new-corpus/$corpus_name" "tests/fuzz/corpus/$corpus_name" \
       </dev/null >"$OUT/$name.log" 2>&1; then
    echo "fuzz: $name FAILED (see $OUT/$name.log)"
    tail -40 "$OUT/$name.log"
    status=1
  fi
done
exit $status
