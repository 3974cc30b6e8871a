/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the OCI hook's JSON parsers (agent/ocistate.h): the
 * runtime state read on stdin and the bundle's config.json. Each input goes
 * through both; whatever parses must have the invariants the header promises.
 * Seeds: tests/fuzz/corpus/ocistate/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocistate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ocistate *st = NULL;
    struct ocistate_config *cfg = NULL;
    char why[256];

    if (ocistate_parse((const char *)data, size, &st, why, sizeof(why)) == ATT_OK) {
        if (st->id == NULL || st->bundle == NULL || st->bundle[0] != '/' ||
            strlen(st->id) > OCISTATE_ID_MAX || (st->has_pid && st->pid <= 0)) {
            abort();
        }
    }
    if (ocistate_config_parse((const char *)data, size, &cfg, why, sizeof(why)) == ATT_OK) {
        if (cfg->root_path == NULL || cfg->root_path[0] == '\0' ||
            (cfg->has_process && cfg->argv0 == NULL) || (cfg->ns_new & cfg->ns_joined) != 0) {
            abort();
        }
    }
    ocistate_free(st);
    ocistate_config_free(cfg);
    return 0;
}
