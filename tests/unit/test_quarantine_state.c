/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine state loading (agent/quarantine.c): a record as save() writes it
 * loads and is enforced; a damaged record fails quarantine_open() with
 * ATT_ERR_PARSE, including an actions field that sscanf's %u used to take
 * ("+1", or 4294967297 wrapped round to 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "attest/util.h"
#include "quarantine.h"

#define OID "0123456789abcdef0123456789abcdef"
#define CID "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* quarantine_open() on a state dir whose quarantine.state holds @p text. */
static att_rc open_with(const char *text, struct quarantine **q)
{
    char dir[] = "/tmp/att-test-quarantine-XXXXXX";
    char path[sizeof(dir) + 32];
    att_rc rc;

    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/quarantine.state", dir);
    assert_int_equal(att_file_write_atomic(path, text, strlen(text)), ATT_OK);
    rc = quarantine_open(dir, NULL, q);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    return rc;
}

static void test_quarantine_open_loads_record(void **state)
{
    struct quarantine *q = NULL;
    char why[256] = "";

    (void)state;
    assert_int_equal(open_with(OID " A " CID " - 1 - -\n", &q), ATT_OK);
    assert_non_null(q);
    assert_true(quarantine_refuses(q, CID, NULL, why, sizeof(why)));
    assert_non_null(strstr(why, OID));
    quarantine_free(q);
}

static void test_quarantine_open_bad_actions(void **state)
{
    static const char *const bad[] = {"4294967297", "+1", "-1", "8", "1x", "0x1"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct quarantine *q = NULL;
        char text[256];

        (void)snprintf(text, sizeof(text), "%s A %s - %s - -\n", OID, CID, bad[i]);
        if (open_with(text, &q) != ATT_ERR_PARSE) {
            quarantine_free(q);
            fail_msg("actions \"%s\" was accepted", bad[i]);
        }
        assert_null(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quarantine_open_loads_record),
        cmocka_unit_test(test_quarantine_open_bad_actions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
