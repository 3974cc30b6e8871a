/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the IMA binary measurement list parser
 * (attest/imalog.h): whole-log parse, then replay and ascii rendering of
 * whatever parsed, then the crash-recovery prefix parse. Seeds live in
 * tests/fuzz/corpus/imalog/.
 */
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/imalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_ima_log log;
    struct att_buf ascii;
    char why[256];
    size_t whole = 0;
    size_t i;

    att_ima_log_init(&log);
    att_buf_init(&ascii, 1u << 20);
    if (att_ima_log_parse(data, size, 4096, &log, why, sizeof(why)) == ATT_OK) {
        uint8_t pcr[ATT_SHA256_LEN] = {0};
        size_t bad = 0;

        (void)att_ima_replay(log.entries, log.count, 10, pcr, &bad);
        for (i = 0; i < log.count; i++) {
            att_buf_reset(&ascii);
            (void)att_ima_entry_ascii(&log.entries[i], &ascii);
        }
    }
    att_ima_log_cleanup(&log);
    (void)att_ima_log_parse_prefix(data, size, &log, &whole);
    att_ima_log_cleanup(&log);
    att_buf_cleanup(&ascii);
    return 0;
}
