/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one project error enum (shared/STYLE.md §5). Its values double as
 * process exit codes for helper tools; attest-verify maps them to its own
 * documented 0/1/2 contract.
 */
#ifndef ATT_COMMON_RC_H
#define ATT_COMMON_RC_H

typedef enum {
    ATT_OK = 0,
    ATT_ERR_INTERNAL,    /* bug or impossible state */
    ATT_ERR_NOMEM,
    ATT_ERR_INVALID_ARG, /* caller misuse */
    ATT_ERR_PARSE,       /* malformed/oversized/trailing input */
    ATT_ERR_TPM,         /* TSS/TPM failure; see log for TSS2_RC */
    ATT_ERR_CRYPTO,      /* OpenSSL failed to *run* */
    ATT_ERR_VERIFY,      /* evidence checked and REJECTED */
    ATT_ERR_POLICY,      /* evidence valid but not allowed */
    ATT_ERR_IO,
    ATT_ERR_TIMEOUT,
    ATT_ERR_AUTH,
    ATT_ERR_NOT_FOUND,   /* a named object (file, host, entry) does not exist */
    ATT_ERR_EXISTS,      /* a named object already exists (conflict) */
} att_rc;

/** Static, human-readable name of @p rc; never NULL. */
const char *att_rc_str(att_rc rc);

#endif
