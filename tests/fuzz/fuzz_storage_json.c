/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the containers/storage readers of the prestart hook
 * (attest/engine_json.h): containers.json (att_engine_storage_image,
 * att_engine_storage_layer) and layers.json (att_engine_layer_parent), each
 * looking up the id the seeds use. What they return must be what the header
 * promises: "sha256:" and 64 hex, or 64 hex. Seeds (tests/fuzz/seedgen.c):
 * tests/fuzz/corpus/storage_json/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/engine_json.h"
#include "attest/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    char image_id[80];
    char image_ref[256];
    char layer[80];
    struct timespec created;

    if (att_engine_storage_image(json, size, ID, image_id, sizeof(image_id), image_ref,
                                 sizeof(image_ref), &created) == ATT_OK &&
        (strncmp(image_id, "sha256:", 7) != 0 || !att_lower_hex(image_id + 7, 64, 64))) {
        abort();
    }
    if (att_engine_storage_layer(json, size, ID, layer, sizeof(layer)) == ATT_OK &&
        !att_lower_hex(layer, 64, 64)) {
        abort();
    }
    if (att_engine_layer_parent(json, size, ID, layer, sizeof(layer)) == ATT_OK &&
        !att_lower_hex(layer, 64, 64)) {
        abort();
    }
    return 0;
}
