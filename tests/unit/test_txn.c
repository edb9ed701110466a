/* Unit tests: the commit builder — district-tagged keys, key de-duplication, op
 * encoding in the order the COMMIT script reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "case.h"
#include "txn.h"

static void
test_fixed_keys_carry_the_district (void **state)
{
    (void) state;
    yx_txn_t t;
    yx_txn_init (&t, "350102", "350102-20261123-000042");
    assert_int_equal (t.keys.argc, 4);
    assert_string_equal (t.keys.argv[0], "yx:{350102}:case:350102-20261123-000042");
    assert_string_equal (t.keys.argv[1], "yx:{350102}:case:350102-20261123-000042:tl");
    assert_string_equal (t.keys.argv[2], "yx:{350102}:case:350102-20261123-000042:acts");
    assert_string_equal (t.keys.argv[3], "yx:{350102}:stats");
    yx_txn_free (&t);
}

static void
test_ops_and_key_reuse (void **state)
{
    (void) state;
    yx_txn_t t;
    char k[96];
    yx_txn_init (&t, "350111", "350111-20261123-000001");
    yx_txn_zadd (&t, yx_key (k, sizeof k, "350111", YX_Q_DISPATCH), 1795392000000.0, "350111-20261123-000001");
    yx_txn_zrem (&t, yx_key (k, sizeof k, "350111", YX_Q_DISPATCH), "x");
    yx_txn_hincrby (&t, yx_key (k, sizeof k, "350111", YX_K_STATS), "dispatched", 1);
    yx_txn_geoadd (&t, yx_key_open (k, sizeof k, "350111", "0102"), 119.3, 26.08, "c");
    /* q:dispatch added once (index 5), stats reused (index 4), open set index 6 */
    assert_int_equal (t.keys.argc, 6);
    assert_string_equal (t.keys.argv[4], "yx:{350111}:q:dispatch");
    assert_string_equal (t.keys.argv[5], "yx:{350111}:open:0102");
    const char *want[] = { "ZADD", "5", "1795392000000", "350111-20261123-000001", "ZREM", "5", "x",
                           "HINCRBY", "4", "dispatched", "1", "GEOADD", "6", "119.3000000", "26.0800000", "c" };
    assert_int_equal (t.ops.argc, (int) (sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal (t.ops.argv[i], want[i]);
    assert_int_equal (yx_txn_key (&t, "yx:{350111}:q:dispatch"), 5);
    yx_txn_free (&t);
}

static void
test_binary_values (void **state)
{
    (void) state;
    yx_txn_t t;
    yx_txn_init (&t, "350102", "350102-20261123-000001");
    const char bytes[4] = { 'a', 0, 'b', 0x7f };
    yx_txn_set (&t, "yx:{350102}:ev:e1", bytes, sizeof bytes);
    assert_int_equal (t.ops.argc, 3);
    assert_int_equal ((int) t.ops.lens[2], 4);
    assert_memory_equal (t.ops.argv[2], bytes, 4);
    yx_txn_free (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test (test_fixed_keys_carry_the_district),
                                        cmocka_unit_test (test_ops_and_key_reuse),
                                        cmocka_unit_test (test_binary_values) };
    return cmocka_run_group_tests_name ("txn", tests, NULL, NULL);
}
