/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256-bank PCR sets: the quote's pcrDigest (TPM 2.0 Part 3 §18.4, the
 * selected values concatenated in ascending index order and hashed with the
 * AK's scheme hash, sha256 here) and two file renderings for independent
 * checkers: tpm2-tools 5.x "serialized" PCR files (tpm2_quote -o,
 * tpm2_checkquote -f) and evmctl's "PCR-NN: hex" list. No TPM access.
 *
 * The tpm2-tools format is a raw dump of host-order C structs, so it is
 * written here field by field in little-endian (the only byte order
 * tpm2-tools on x86/ARM produces); see docs/internals/quote.md.
 */
#include "attest/pcrs.h"

#include <stdio.h>
#include <string.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/util.h"

/* Layout of tpm2-tools' serialized file, as the x86-64/aarch64 C ABI lays out tss2 types. */
#define TT_NUM_BANKS        16 /* TPM2_NUM_PCR_BANKS */
#define TT_SELECTION_SIZE   8  /* TPMS_PCR_SELECTION: hash(2) size(1) select[4] pad(1) */
#define TT_PCR_SELECTION_SZ (4 + TT_NUM_BANKS * TT_SELECTION_SIZE)     /* 132 */
#define TT_DIGESTS_PER_LIST 8                                          /* TPML_DIGEST */
#define TT_DIGEST_SIZE      (2 + 64)                                   /* TPM2B_DIGEST */
#define TT_DIGEST_LIST_SZ   (4 + TT_DIGESTS_PER_LIST * TT_DIGEST_SIZE) /* 532 */
#define TT_MAX_LISTS        ((ATT_PCR_COUNT + TT_DIGESTS_PER_LIST - 1) / TT_DIGESTS_PER_LIST)
#define TT_MAX_FILE         (TT_PCR_SELECTION_SZ + 4 + TT_MAX_LISTS * TT_DIGEST_LIST_SZ)
#define TT_ALG_SHA256       0x000b

#define EVM_LINE_LEN (sizeof("PCR-00: ") - 1 + 2 * ATT_SHA256_LEN + 1)

unsigned att_pcrs_count(uint32_t mask)
{
    unsigned n = 0;
    unsigned i;

    for (i = 0; i < ATT_PCR_COUNT; i++) {
        if ((mask & (1u << i)) != 0) {
            n++;
        }
    }
    return n;
}

att_rc att_pcrs_digest(const struct att_pcrs *p, uint8_t out[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_INTERNAL;
    uint8_t cat[ATT_PCR_COUNT * ATT_SHA256_LEN];
    size_t len = 0;
    unsigned i;

    if (p == NULL || out == NULL || (p->mask & ~ATT_PCR_ALL_MASK) != 0) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        if ((p->mask & (1u << i)) != 0) {
            memcpy(cat + len, p->value[i], ATT_SHA256_LEN);
            len += ATT_SHA256_LEN;
        }
    }
    rc = att_sha256(cat, len, out);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

static void put_le16(uint8_t *dst, uint16_t v)
{
    dst[0] = (uint8_t)(v & 0xffu);
    dst[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *dst, uint32_t v)
{
    dst[0] = (uint8_t)(v & 0xffu);
    dst[1] = (uint8_t)((v >> 8) & 0xffu);
    dst[2] = (uint8_t)((v >> 16) & 0xffu);
    dst[3] = (uint8_t)(v >> 24);
}

att_rc att_pcrs_encode_tpm2tools(const struct att_pcrs *p, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    uint8_t file[TT_MAX_FILE];
    uint8_t *d = file;
    unsigned n;
    unsigned lists;
    unsigned i;
    unsigned in_list = 0;

    if (p == NULL || out == NULL || p->mask == 0 || (p->mask & ~ATT_PCR_ALL_MASK) != 0) {
        return ATT_ERR_INVALID_ARG;
    }
    /* Unused banks, padding and unused digest slots are zero, as tpm2-tools writes them. */
    memset(file, 0, sizeof(file));

    /* TPML_PCR_SELECTION: count = 1, one sha256 selection with a 3-byte bitmap. */
    put_le32(d, 1);
    put_le16(d + 4, TT_ALG_SHA256);
    d[6] = 3;
    d[7] = (uint8_t)(p->mask & 0xffu);
    d[8] = (uint8_t)((p->mask >> 8) & 0xffu);
    d[9] = (uint8_t)((p->mask >> 16) & 0xffu);
    d += TT_PCR_SELECTION_SZ;

    /*
     * tpm2-tools keeps each TPM2_PCR_Read response as one TPML_DIGEST of at
     * most 8 values, so the values go in ascending index order, 8 per list.
     */
    n = att_pcrs_count(p->mask);
    lists = (n + TT_DIGESTS_PER_LIST - 1) / TT_DIGESTS_PER_LIST;
    put_le32(d, lists);
    d += 4;
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        uint8_t *list;
        uint8_t *slot;

        if ((p->mask & (1u << i)) == 0) {
            continue;
        }
        list = d + (size_t)(in_list / TT_DIGESTS_PER_LIST) * TT_DIGEST_LIST_SZ;
        slot = list + 4 + (size_t)(in_list % TT_DIGESTS_PER_LIST) * TT_DIGEST_SIZE;
        /* Rewritten as each value lands: the final count is the list's fill. */
        put_le32(list, in_list % TT_DIGESTS_PER_LIST + 1);
        put_le16(slot, ATT_SHA256_LEN);
        memcpy(slot + 2, p->value[i], ATT_SHA256_LEN);
        in_list++;
    }
    d += (size_t)lists * TT_DIGEST_LIST_SZ;

    /* One append: on failure out is left as it was. */
    rc = att_buf_append(out, file, (size_t)(d - file));
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

att_rc att_pcrs_encode_evmctl(const struct att_pcrs *p, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char text[ATT_PCR_COUNT * EVM_LINE_LEN + 1];
    char hex[2 * ATT_SHA256_LEN + 1];
    size_t len = 0;
    unsigned i;

    if (p == NULL || out == NULL || p->mask != ATT_PCR_ALL_MASK) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        int w;

        att_hex_encode(p->value[i], ATT_SHA256_LEN, hex);
        w = snprintf(text + len, sizeof(text) - len, "PCR-%02u: %s\n", i, hex);
        if (w < 0 || (size_t)w >= sizeof(text) - len) {
            rc = ATT_ERR_INTERNAL;
            goto out;
        }
        len += (size_t)w;
    }
    rc = att_buf_append(out, text, len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

bool att_pcr_meas_allowed(uint32_t pcr, char *why, size_t why_len)
{
    const char *r = NULL;

    if (pcr >= 24) {
        r = "there are only PCRs 0..23";
    } else if (pcr == 16) {
        r = "PCR 16 is the debug PCR and can be reset by anyone, so it proves nothing";
    } else if (pcr == 23) {
        r = "PCR 23 is application-resettable from locality 0, so it proves nothing";
    } else if (pcr >= 17) {
        r = "PCRs 17..22 are for dynamic launch (DRTM) and cannot be extended from locality 0";
    } else if (pcr == 10) {
        r = "PCR 10 belongs to kernel IMA, whose log we cannot see";
    } else if (pcr <= 7) {
        r = "PCRs 0..7 hold the boot chain (firmware, boot loader); extending them breaks "
            "their reference values";
    }
    if (r != NULL) {
        (void)snprintf(why, why_len, "PCR %u refused: %s", pcr, r);
        return false;
    }
    return true;
}
