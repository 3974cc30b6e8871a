/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for procmem_maps_parse() (agent/procmem.h, proc(5)
 * /proc/PID/maps). Whatever parses must hold the parser's promises (aligned,
 * non-empty, ascending ranges; bounded paths), and every mapping, printed
 * back the way the kernel prints it, must parse to the same fields.
 * A second parse with a cap of 4 lines checks the line cap.
 * Seeds: tests/fuzz/corpus/procmem_maps/.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reparse_same(const struct procmem_mapping *m)
{
    static char line[PROCMEM_MAX_PATH + 256];
    struct procmem_maps again;
    const struct procmem_mapping *a;
    int n;

    n = snprintf(line, sizeof(line),
                 "%" PRIx64 "-%" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " %s%s\n",
                 m->start, m->end, m->is_read ? 'r' : '-', m->is_write ? 'w' : '-',
                 m->is_exec ? 'x' : '-', m->is_shared ? 's' : 'p', m->offset,
                 (unsigned)m->dev_major, (unsigned)m->dev_minor, m->inode, m->path,
                 m->is_deleted ? " (deleted)" : "");
    if (n <= 0 || (size_t)n >= sizeof(line) ||
        procmem_maps_parse(line, (size_t)n, 1, &again, NULL, 0) != ATT_OK || again.count != 1) {
        abort();
    }
    a = &again.mappings[0];
    if (a->start != m->start || a->end != m->end || a->offset != m->offset ||
        a->dev_major != m->dev_major || a->dev_minor != m->dev_minor || a->inode != m->inode ||
        a->is_read != m->is_read || a->is_write != m->is_write || a->is_exec != m->is_exec ||
        a->is_shared != m->is_shared || a->is_deleted != m->is_deleted || a->kind != m->kind ||
        a->pseudo != m->pseudo || strcmp(a->path, m->path) != 0) {
        abort();
    }
    procmem_maps_cleanup(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct procmem_maps m;
    char why[128];
    size_t i;

    if (procmem_maps_parse((const char *)data, size, 0, &m, why, sizeof(why)) == ATT_OK) {
        for (i = 0; i < m.count; i++) {
            const struct procmem_mapping *v = &m.mappings[i];

            if (v->start >= v->end || v->start % 4096 != 0 || v->end % 4096 != 0 ||
                (i > 0 && v->start < m.mappings[i - 1].end) || strlen(v->path) > PROCMEM_MAX_PATH) {
                abort();
            }
            reparse_same(v);
        }
    }
    procmem_maps_cleanup(&m);
    if (procmem_maps_parse((const char *)data, size, 4, &m, NULL, 0) == ATT_OK && m.count > 4) {
        abort();
    }
    procmem_maps_cleanup(&m);
    return 0;
}
