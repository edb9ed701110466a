# Yixian build. `make run` starts the system, `make test` runs the suite.
# BUILD selects the output tree; SAN=1 builds with ASan+UBSan into build-asan/.

SAN      ?= 0
ifeq ($(SAN),1)
BUILD    ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1
else
BUILD    ?= build
SANFLAGS :=
OPT      := -O2
endif

CC       ?= gcc
PKGS     := libzmq libprotobuf-c hiredis libconfig libmicrohttpd jansson libcurl libsodium
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror $(SANFLAGS) \
            -Iservices/common -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
LDFLAGS  := $(SANFLAGS)

PROTO    := proto/yixian/v1/bus.proto
PB_C     := $(BUILD)/gen/yixian/v1/bus.pb-c.c
PB_H     := $(BUILD)/gen/yixian/v1/bus.pb-c.h

COMMON_SRC := $(wildcard services/common/*.c)
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) $(BUILD)/obj/gen/bus.pb-c.o
COMMON_LIB := $(BUILD)/lib/libyxcommon.a

SERVICES := intake classifier dispatcher notifier metrics
TOOLS    := yxctl $(notdir $(wildcard services/yx-*))
BIN_NAMES:= $(addprefix yx-,$(SERVICES)) $(TOOLS)
BINS     := $(addprefix $(BUILD)/bin/,$(BIN_NAMES))

# Service code other than main.c goes into a per-service library so unit tests can link it.
svc_dir   = services/$(patsubst yx-%,%,$(1))
svc_dir2  = $(if $(wildcard services/$(1)),services/$(1),services/$(patsubst yx-%,%,$(1)))
SVC_LIBS := $(foreach b,$(BIN_NAMES),$(BUILD)/lib/lib$(b).a)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_SRC:= $(wildcard tests/bench/bench_*.c)
BENCH_BIN:= $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps run test unit system asan fuzz bench clean model
all: $(BINS) $(UNIT_BIN) $(BENCH_BIN)

deps:
	@scripts/deps.sh

$(PB_C) $(PB_H): $(PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $(PROTO)

$(BUILD)/obj/gen/bus.pb-c.o: $(PB_C)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(SANFLAGS) -I$(BUILD)/gen -c $< -o $@

$(BUILD)/obj/%.o: %.c $(PB_H) $(wildcard services/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -Iservices/$(word 2,$(subst /, ,$*)) -c $< -o $@

$(COMMON_LIB): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && ar rcs $@ $^

define SERVICE_RULES
$(1)_DIR := $(call svc_dir2,$(1))
$(1)_SRC := $$(filter-out $$($(1)_DIR)/main.c,$$(wildcard $$($(1)_DIR)/*.c))
$(1)_OBJ := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(BUILD)/lib/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(dir $$@)
	@rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,$(BUILD)/obj/gen/bus.pb-c.o)
$(BUILD)/bin/$(1): $(BUILD)/obj/$$($(1)_DIR)/main.o $(BUILD)/lib/lib$(1).a $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	@echo "  LD    $$@"
	@$(CC) $(LDFLAGS) $$^ $(LDLIBS) -o $$@
endef
$(foreach b,$(BIN_NAMES),$(eval $(call SERVICE_RULES,$(b))))
include services/metrics/embed.mk

$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(SVC_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST  $<"
	@$(CC) $(CFLAGS) $(addprefix -I,$(wildcard services/*)) $< -Wl,--start-group $(SVC_LIBS) $(COMMON_LIB) -Wl,--end-group $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

$(BUILD)/bench/bench_%: tests/bench/bench_%.c $(SVC_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH $<"
	@$(CC) $(CFLAGS) $(addprefix -I,$(wildcard services/*)) $< -Wl,--start-group $(SVC_LIBS) $(COMMON_LIB) -Wl,--end-group $(LDFLAGS) $(LDLIBS) -o $@

run: deps all
	@scripts/run.sh

unit: all
	@scripts/test.sh unit $(BUILD)

system: all
	@scripts/test.sh system $(BUILD)

test: deps
	@scripts/test.sh all

fuzz: deps
	@scripts/fuzz.sh

bench: deps all
	@scripts/bench.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz
