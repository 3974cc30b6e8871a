/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for att_pkg_record_parse() (attest/appraise.h): the
 * header of a measured "packages:<id>" record. Whatever parses must have
 * 1 <= part <= n <= ATT_PKG_RECORD_MAX_PARTS, a 64-digit lower-case hex digest, no body pointer
 * and a body length that fits behind a header line inside the input, and
 * the header must be its one canonical spelling, byte for byte.
 * Seeds: tests/fuzz/corpus/pkgrecord/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/appraise.h"
#include "attest/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_pkg_record r;
    char why[128];

    memset(&r, 0, sizeof(r));
    if (att_pkg_record_parse(data, size, &r, why, sizeof(why)) == ATT_OK) {
        /*
         * The header line holds at least "attest-packages ", two one-digit
         * numbers, 64 hex digits and the newline.
         */
        if (r.part < 1 || r.part > r.n || r.n > ATT_PKG_RECORD_MAX_PARTS || r.body != NULL ||
            r.len + sizeof(ATT_PKG_RECORD_HEADER " 11\n") - 1 + 64 > size ||
            data[size - r.len - 1] != '\n' || !att_lower_hex(r.digest, 64, 64)) {
            abort();
        }
        {
            char hdr[160];
            int n = snprintf(hdr, sizeof(hdr), ATT_PKG_RECORD_HEADER " %u %u %s\n", r.part, r.n,
                             r.digest);

            if (n <= 0 || (size_t)n != size - r.len || memcmp(hdr, data, (size_t)n) != 0) {
                abort();
            }
        }
    }
    return 0;
}
