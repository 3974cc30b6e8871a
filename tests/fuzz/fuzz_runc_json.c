/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the runc state.json decoder (bare runc backend). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/engine_json.h"
#include "attest/runc_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_engine_container c;
    struct att_runc_state st;
    char why[128];

    memset(&c, 0, sizeof(c));
    (void)att_runc_state_decode((const char *)data, size, &c, &st, why, sizeof(why));
    att_engine_container_cleanup(&c);
    return 0;
}
