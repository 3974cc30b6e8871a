/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the rootfs scanner's ELF reader
 * (rootfs_elf_classify_mem, agent/rootfs.h): the input is a whole file.
 * It must never fail on content, and a verdict must fit the header it read.
 * Seeds: tests/fuzz/corpus/elfhdr/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "rootfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rootfs_elf_info info;
    char why[256];

    if (rootfs_elf_classify_mem(data, size, &info, why, sizeof(why)) != ATT_OK) {
        abort();
    }
    if ((info.kind == ROOTFS_KIND_EXEC || info.kind == ROOTFS_KIND_SHLIB) && info.e_type != 2 &&
        info.e_type != 3) {
        abort();
    }
    if (info.kind == ROOTFS_KIND_NONE && size >= 4 && data[0] == 0x7f && data[1] == 'E' &&
        data[2] == 'L' && data[3] == 'F') {
        abort();
    }
    return 0;
}
