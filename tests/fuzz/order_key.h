/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixed P-256 order-signing key shared by fuzz_order.c and seedgen.c:
 * the seed envelopes in tests/fuzz/corpus/order/ are sealed with it, so
 * they verify in the fuzz target. Made with "openssl ecparam -name
 * prime256v1 -genkey | openssl pkey"; a test key, never used elsewhere.
 */
#ifndef ATT_FUZZ_ORDER_KEY_H
#define ATT_FUZZ_ORDER_KEY_H

#include <stdlib.h>
#include <unistd.h>

#include "attest/sigkey.h"

/* clang-format off */
static const char fuzz_order_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqM67Hs0fWIwp0MNg\n"
    "yw208tKUab8FmfHrIOmv78+b3VGhRANCAATeHf71izDFIVuxL0UQyrd0Emf3ZOQ9\n"
    "nru5sexxA95TIm5brUzOXuEgTZdbX2alRsfKpCgcvgCia2RyzDlg4a3o\n"
    "-----END PRIVATE KEY-----\n";
/* clang-format on */

/* att_sigkey_load_or_create() takes a path: go through a temporary file. */
static struct att_sigkey *fuzz_order_key_load(void)
{
    char path[] = "/tmp/att-fuzz-order-key.XXXXXX";
    size_t len = sizeof(fuzz_order_key_pem) - 1;
    struct att_sigkey *k = NULL;
    int fd = mkstemp(path);

    if (fd < 0) {
        return NULL;
    }
    if (write(fd, fuzz_order_key_pem, len) != (ssize_t)len ||
        att_sigkey_load_or_create(path, &k, NULL, 0) != ATT_OK) {
        k = NULL;
    }
    (void)close(fd);
    (void)unlink(path);
    return k;
}

#endif
