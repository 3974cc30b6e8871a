/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the feed readers (attest/vulnfeed_json.h). The first
 * byte picks the reader: bit 0 clear OSV, set the Debian security tracker
 * (bit 1 then keeps only bookworm, else every release); the rest is the
 * JSON. An import that fails must leave the db as it was (no entries, the
 * feed time unchanged). One that succeeds must finish, its canonical text
 * must parse again, and the parsed db must carry the same digest.
 * Seeds: tests/fuzz/corpus/vulnfeed/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/vulndb.h"
#include "attest/vulnfeed_json.h"

#define FEED_TIME 1700000000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_vulndb *db = NULL;
    struct att_vulndb *back = NULL;
    struct att_buf text;
    const char *json;
    size_t len;
    att_rc rc;
    char why[256];

    if (size < 1) {
        return 0;
    }
    json = (const char *)data + 1;
    len = size - 1;
    att_buf_init(&text, ATT_VULNDB_MAX_TEXT);
    db = att_vulndb_new(FEED_TIME);
    if (db == NULL) {
        goto out;
    }
    if ((data[0] & 1u) == 0) {
        rc = att_vulnfeed_osv_add(db, json, len, "fuzz", NULL, why, sizeof(why));
    } else {
        rc = att_vulnfeed_tracker_add(db, json, len, (data[0] & 2u) != 0 ? "bookworm" : NULL, NULL,
                                      why, sizeof(why));
    }
    if (rc != ATT_OK) {
        if (db->n_entries != 0 || db->feed_time != FEED_TIME) {
            abort(); /* a failed import must roll the db back */
        }
        goto out;
    }
    if (att_vulndb_finish(db) != ATT_OK || att_vulndb_canonical(db, &text) != ATT_OK ||
        att_vulndb_parse(text.data, text.len, &back, why, sizeof(why)) != ATT_OK ||
        back->n_entries != db->n_entries || back->feed_time != db->feed_time ||
        memcmp(back->digest, db->digest, sizeof(db->digest)) != 0) {
        abort();
    }
out:
    att_vulndb_free(back);
    att_vulndb_free(db);
    att_buf_cleanup(&text);
    return 0;
}
