/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key templates the agent creates its EK and AK from, for code that
 * drives a TPM itself (tests that act as "another TPM" or check activation).
 * EK: TCG EK Credential Profile 2.3 §2.1.5 templates L-1 (RSA 2048) and L-2
 * (ECC P-256), PolicySecret(TPM_RH_ENDORSEMENT). AK: restricted signing key,
 * RSASSA-SHA256 or ECDSA-SHA256 on P-256. Both fill a caller-owned struct.
 */
#ifndef ATT_COMMON_TPM_TEMPLATE_H
#define ATT_COMMON_TPM_TEMPLATE_H

#include <tss2/tss2_tpm2_types.h>

#include "attest/tpm.h"

void att_tpm_ek_template(enum att_key_alg alg, TPM2B_PUBLIC *pub);
void att_tpm_ak_template(enum att_key_alg alg, TPM2B_PUBLIC *pub);

#endif
