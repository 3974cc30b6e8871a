/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the Docker Engine API decoders (list, inspect, and the networks of an
 * inspect answer) with the same bytes. Every network name decoded must pass
 * att_engine_network_name_ok(): it goes into a URL path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/engine_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_engine_container *list = NULL;
    struct att_engine_container c;
    size_t n = 0;
    char **nets = NULL;
    size_t n_nets = 0;
    size_t i;
    char why[128];

    memset(&c, 0, sizeof(c));
    if (att_engine_list_decode((const char *)data, size, &list, &n, why, sizeof(why)) == ATT_OK) {
        att_engine_containers_free(list, n);
    }
    (void)att_engine_inspect_decode((const char *)data, size, &c, why, sizeof(why));
    att_engine_container_cleanup(&c);
    if (att_engine_networks_decode((const char *)data, size, &nets, &n_nets, why, sizeof(why)) ==
        ATT_OK) {
        for (i = 0; i < n_nets; i++) {
            if (!att_engine_network_name_ok(nets[i])) {
                abort();
            }
        }
        att_engine_networks_free(nets, n_nets);
    }
    return 0;
}
