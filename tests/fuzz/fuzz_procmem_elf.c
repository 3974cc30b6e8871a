/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for procmem_elf_parse() (agent/procmem.h): the program
 * headers and dynamic section of a file mapped into a container process,
 * which the process's owner controls (the inspection reads it with pread()
 * through the same code). Whatever parses must keep the header's cap of
 * PROCMEM_ELF_MAX_LOADS loads and report a RELRO range only with has_relro.
 * Seeds: tests/fuzz/corpus/procmem_elf/ (ELF files, as for fuzz_elfhdr).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct procmem_elf e;
    char why[128];

    memset(&e, 0, sizeof(e));
    if (procmem_elf_parse(data, size, &e, why, sizeof(why)) == ATT_OK) {
        if (e.n_loads > PROCMEM_ELF_MAX_LOADS || (!e.has_relro && e.relro_memsz != 0)) {
            abort();
        }
    }
    return 0;
}
