/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for att_vulndb_parse() (attest/vulndb.h): the canonical
 * vulnerability feed text the verifier sends to agents. The form is
 * canonical, so whatever parses must encode back to exactly the input, and
 * the digest parse sets must be the input's SHA-256 (it names the feed).
 * Seeds: tests/fuzz/corpus/vulndb/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/digest.h"
#include "attest/vulndb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_vulndb *db = NULL;
    struct att_buf out;
    uint8_t d[ATT_SHA256_LEN];
    char why[256];

    att_buf_init(&out, ATT_VULNDB_MAX_TEXT);
    if (att_vulndb_parse(data, size, &db, why, sizeof(why)) == ATT_OK) {
        if (db == NULL || att_vulndb_canonical(db, &out) != ATT_OK || out.len != size ||
            (size > 0 && memcmp(out.data, data, size) != 0) ||
            att_sha256(data, size, d) != ATT_OK || memcmp(d, db->digest, sizeof(d)) != 0) {
            abort();
        }
    }
    att_vulndb_free(db);
    att_buf_cleanup(&out);
    return 0;
}
