/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for att_inventory_parse() (attest/inventory.h): the
 * canonical package inventory text the prestart hook measures and the
 * verifier judges. The form is canonical, so whatever parses must encode
 * back to exactly the input bytes; anything else is a bug (abort).
 * Seeds: tests/fuzz/corpus/inventory/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_inventory *inv = NULL;
    struct att_buf out;
    char why[256];

    att_buf_init(&out, ATT_INV_MAX_TEXT);
    if (att_inventory_parse((const char *)data, size, &inv, why, sizeof(why)) == ATT_OK) {
        if (inv == NULL || att_inventory_canonical(inv, &out) != ATT_OK || out.len != size ||
            (size > 0 && memcmp(out.data, data, size) != 0)) {
            abort();
        }
    }
    att_inventory_free(inv);
    att_buf_cleanup(&out);
    return 0;
}
