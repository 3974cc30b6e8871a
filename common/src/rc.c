/* SPDX-License-Identifier: Apache-2.0 */
/* att_rc names (shared/STYLE.md §5). */
#include "attest/rc.h"

const char *att_rc_str(att_rc rc)
{
    switch (rc) {
    case ATT_OK:
        return "ok";
    case ATT_ERR_INTERNAL:
        return "internal error";
    case ATT_ERR_NOMEM:
        return "out of memory";
    case ATT_ERR_INVALID_ARG:
        return "invalid argument";
    case ATT_ERR_PARSE:
        return "malformed input";
    case ATT_ERR_TPM:
        return "TPM error";
    case ATT_ERR_CRYPTO:
        return "cryptographic library error";
    case ATT_ERR_VERIFY:
        return "verification failed";
    case ATT_ERR_POLICY:
        return "not allowed by policy";
    case ATT_ERR_IO:
        return "I/O error";
    case ATT_ERR_TIMEOUT:
        return "timed out";
    case ATT_ERR_AUTH:
        return "authorization failed";
    case ATT_ERR_NOT_FOUND:
        return "not found";
    case ATT_ERR_EXISTS:
        return "already exists";
    }
    return "unknown error";
}
