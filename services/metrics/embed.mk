# embed.mk — extra dependencies of the metrics service, included from the top-level
# Makefile after BUILD is set:
#   include services/metrics/embed.mk
#
# web.c assembles the dashboard's files into the binary (.incbin), so its object must
# be rebuilt when one of them changes; every metrics object and unit test depends on
# the service's own header.
METRICS_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard services/metrics/*.c))

$(BUILD)/obj/services/metrics/web.o: $(wildcard services/metrics/web/*)
$(METRICS_OBJ): services/metrics/metrics.h
$(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_metrics_*.c)): services/metrics/metrics.h
