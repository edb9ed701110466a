/* Unit tests: the intake's token buckets, per API key and per client address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth.h"
#include "config.h"
#include "ratelimit.h"
#include "util.h"

/* The sample city with rate 2/s, burst 3 for keys and for addresses. */
static yx_config_t *
s_config (void)
{
    char *over[] = { "intake.rate_per_s=2", "intake.rate_burst=3", "intake.public_rate_per_s=2",
                     "intake.public_rate_burst=3", NULL };
    char err[1024] = "";
    yx_config_t *cfg = yx_config_load ("config/yixian.cfg", over, err, sizeof err);
    if (!cfg)
        fail_msg ("sample config: %s", err);
    return cfg;
}

static void
s_addr (const char *text, uint8_t out[16])
{
    assert_int_equal (yx_ip_parse (text, strlen (text), out), 0);
}

static void
test_key_bucket (void **state)
{
    (void) state;
    yx_config_t *cfg = s_config ();
    yx_ratelimit_t *rl = yx_ratelimit_new (cfg);
    assert_non_null (rl);
    yx_caller_t op, admin;
    assert_int_equal (yx_auth_key (cfg, "demo-operator-key", &op), 0);
    assert_int_equal (yx_auth_key (cfg, "demo-admin-key", &admin), 0);
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)                      /* the burst */
        assert_int_equal (yx_ratelimit_take (rl, op.key, t), 0);
    assert_int_equal (yx_ratelimit_take (rl, op.key, t), 1);   /* empty: wait a second */
    assert_int_equal (yx_ratelimit_take (rl, admin.key, t), 0); /* another key, its own bucket */
    assert_int_equal (yx_ratelimit_take (rl, op.key, t + 500), 0);   /* 2/s: one token in 500 ms */
    assert_int_equal (yx_ratelimit_take (rl, op.key, t + 500), 1);
    assert_int_equal (yx_ratelimit_take (rl, op.key, t + 400), 1);   /* a clock step back adds nothing */
    for (int i = 0; i < 3; i++)                      /* an hour later: full, but no more than burst */
        assert_int_equal (yx_ratelimit_take (rl, op.key, t + 3600000), 0);
    assert_int_equal (yx_ratelimit_take (rl, op.key, t + 3600000), 1);
    yx_ratelimit_destroy (&rl);
    assert_null (rl);
    yx_config_destroy (&cfg);
}

static void
test_address_buckets (void **state)
{
    (void) state;
    yx_config_t *cfg = s_config ();
    yx_ratelimit_t *rl = yx_ratelimit_new (cfg);
    uint8_t a[16], b[16], a6[16];
    s_addr ("203.0.113.7", a);
    s_addr ("203.0.113.8", b);
    s_addr ("::ffff:203.0.113.7", a6);                /* the same client written as IPv6 */
    assert_memory_equal (a, a6, 16);
    int64_t t = 5000;
    for (int i = 0; i < 3; i++)
        assert_int_equal (yx_ratelimit_take_addr (rl, a, t), 0);
    assert_int_equal (yx_ratelimit_take_addr (rl, a6, t), 1);
    assert_int_equal (yx_ratelimit_take_addr (rl, b, t), 0);
    assert_int_equal (yx_ratelimit_take_addr (rl, a, t + 500), 0);
    /* a crowd of 10,000 other addresses: the table stays bounded and keeps working */
    for (uint32_t i = 0; i < 10000; i++) {
        uint8_t x[16] = { 0x20, 0x01, 0x0d, 0xb8 };
        memcpy (x + 12, &i, 4);
        assert_int_equal (yx_ratelimit_take_addr (rl, x, t + 600), 0);
    }
    for (int i = 0; i < 3; i++)
        yx_ratelimit_take_addr (rl, b, t + 700);
    assert_int_equal (yx_ratelimit_take_addr (rl, b, t + 700), 1);   /* b is limited again */
    yx_ratelimit_destroy (&rl);
    yx_config_destroy (&cfg);
}

static void
test_unlimited (void **state)
{
    (void) state;
    char *over[] = { "intake.rate_per_s=0", "intake.public_rate_per_s=0", NULL };
    char err[1024] = "";
    yx_config_t *cfg = yx_config_load ("config/yixian.cfg", over, err, sizeof err);
    assert_non_null (cfg);
    yx_ratelimit_t *rl = yx_ratelimit_new (cfg);
    yx_caller_t op;
    assert_int_equal (yx_auth_key (cfg, "demo-operator-key", &op), 0);
    uint8_t a[16];
    s_addr ("198.51.100.1", a);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal (yx_ratelimit_take (rl, op.key, 1), 0);
        assert_int_equal (yx_ratelimit_take_addr (rl, a, 1), 0);
    }
    yx_ratelimit_destroy (&rl);
    yx_config_destroy (&cfg);
}

static void
test_ip_parse (void **state)
{
    (void) state;
    uint8_t out[16];
    const uint8_t v4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3 };
    assert_int_equal (yx_ip_parse (" 10.1.2.3 ", 10, out), 0);
    assert_memory_equal (out, v4, 16);
    assert_int_equal (yx_ip_parse ("2001:db8::1", 11, out), 0);
    assert_int_equal (out[0], 0x20);
    assert_int_equal (out[15], 1);
    const char *bad[] = { "", " ", "10.1.2", "10.1.2.300", "unknown", "2001:db8::1::2", "10.1.2.3:80",
                          "0123456789012345678901234567890123456789012345678901234567890" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (yx_ip_parse (bad[i], strlen (bad[i]), out) == 0)
            fail_msg ("accepted \"%s\"", bad[i]);
    assert_int_equal (yx_ip_parse ("10.1.2.3, 10.9.9.9", 8, out), 0);   /* only len bytes count */
    assert_memory_equal (out, v4, 16);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_key_bucket),
        cmocka_unit_test (test_address_buckets),
        cmocka_unit_test (test_unlimited),
        cmocka_unit_test (test_ip_parse),
    };
    return cmocka_run_group_tests (tests, 0, NULL);
}
