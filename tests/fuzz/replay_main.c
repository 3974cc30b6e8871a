/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Without libFuzzer (gcc/ctest builds), replay every file of a corpus
 * directory through a target's LLVMFuzzerTestOneInput, so each seed and
 * every crash found earlier stays a regression test (shared/STYLE.md §9).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/buf.h"
#include "attest/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    DIR *d;
    struct dirent *de;
    char path[4096];
    unsigned n = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "%s: cannot open corpus %s\n", argv[0], argv[1]);
        return 2;
    }
    while ((de = readdir(d)) != NULL) {
        struct att_buf b;

        if (de->d_name[0] == '.') {
            continue;
        }
        if (snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name) >= (int)sizeof(path)) {
            continue;
        }
        att_buf_init(&b, 64u << 20);
        if (att_file_read(path, &b) != ATT_OK) {
            fprintf(stderr, "cannot read %s\n", path);
            att_buf_cleanup(&b);
            closedir(d);
            return 2;
        }
        (void)LLVMFuzzerTestOneInput(b.data != NULL ? b.data : (const uint8_t *)"", b.len);
        att_buf_cleanup(&b);
        n++;
    }
    closedir(d);
    printf("%u passed, 0 failed\n", n);
    return n > 0 ? 0 : 1;
}
