/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A set of sha256-bank PCR values as quoted, and its file renderings for
 * independent checkers: tpm2-tools' serialized PCR file (tpm2_checkquote -f)
 * and evmctl's "PCR-NN: hex" list (evmctl ima_measurement --pcrs sha256,FILE).
 */
#ifndef ATT_COMMON_PCRS_H
#define ATT_COMMON_PCRS_H

#include <stdbool.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/rc.h"

#define ATT_PCR_COUNT    24
#define ATT_PCR_ALL_MASK 0x00ffffffu

struct att_pcrs {
    uint32_t mask; /* bit i set: value[i] holds PCR i */
    uint8_t value[ATT_PCR_COUNT][ATT_SHA256_LEN];
};

/** Number of PCRs selected in @p mask (bits 0..23). */
unsigned att_pcrs_count(uint32_t mask);
/** sha256 over the selected values in ascending index: the quote's pcrDigest. */
att_rc att_pcrs_digest(const struct att_pcrs *p, uint8_t out[ATT_SHA256_LEN]);
/** tpm2-tools 5.x "serialized" PCR file: TPML_PCR_SELECTION, UINT32 count, TPML_DIGEST[count]. */
att_rc att_pcrs_encode_tpm2tools(const struct att_pcrs *p, struct att_buf *out);
/** "PCR-00: <hex>\n" .. "PCR-23: <hex>\n"; requires all 24 PCRs in the mask. */
att_rc att_pcrs_encode_evmctl(const struct att_pcrs *p, struct att_buf *out);
/**
 * Whether @p pcr may hold attest's measurements (the agent's --pcr, and what
 * the verifier accepts from an identity or evidence). Refused: resettable
 * PCRs (16 debug, 23 application), locality-restricted 17..22, 10 (kernel
 * IMA), 0..7 (boot chain), 24 and above. @p why says why when refused.
 */
bool att_pcr_meas_allowed(uint32_t pcr, char *why, size_t why_len);

#endif
