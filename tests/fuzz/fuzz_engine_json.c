/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the Docker Engine API decoders (list and inspect) with the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/engine_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_engine_container *list = NULL;
    struct att_engine_container c;
    size_t n = 0;
    char why[128];

    memset(&c, 0, sizeof(c));
    if (att_engine_list_decode((const char *)data, size, &list, &n, why, sizeof(why)) == ATT_OK) {
        att_engine_containers_free(list, n);
    }
    (void)att_engine_inspect_decode((const char *)data, size, &c, why, sizeof(why));
    att_engine_container_cleanup(&c);
    return 0;
}
