/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine network isolation (see netisolate.h) with libnftables through
 * netfilter.c: the namespace is opened and checked in the agent and joined
 * by exactly that open file, so the "not the agent's own namespace" check and
 * the join cannot be split by a pid that is reused in between.
 */
#include "netisolate.h"

#include <unistd.h>

#include "netfilter.h"

/*
 * Created if missing, then deleted and created again in one transaction:
 * whatever a table of that name held before (ours, or one the container
 * made), afterwards it is exactly these three drop chains, with no window
 * in which the namespace is open.
 */
static const char apply_ruleset[] =
    "table inet " NETISOLATE_TABLE " {}\n"
    "delete table inet " NETISOLATE_TABLE "\n"
    "table inet " NETISOLATE_TABLE " {\n"
    "    chain input { type filter hook input priority -300; policy drop; }\n"
    "    chain output { type filter hook output priority -300; policy drop; }\n"
    "    chain forward { type filter hook forward priority -300; policy drop; }\n"
    "}\n";

att_rc netisolate_apply(pid_t pid, char *why, size_t why_len)
{
    int nsfd = -1;
    att_rc rc = nf_open_netns(pid, &nsfd, why, why_len);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = nf_run(nsfd, apply_ruleset, false, NULL, why, why_len);
    (void)close(nsfd);
    return rc;
}

att_rc netisolate_remove(pid_t pid, char *why, size_t why_len)
{
    int nsfd = -1;
    att_rc rc = nf_open_netns(pid, &nsfd, why, why_len);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = nf_remove(nsfd, NETISOLATE_TABLE, why, why_len);
    (void)close(nsfd);
    return rc;
}

att_rc netisolate_status(pid_t pid, bool *isolated, char *why, size_t why_len)
{
    int nsfd = -1;
    bool has = false;
    att_rc rc;

    if (isolated == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = nf_open_netns(pid, &nsfd, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = nf_has_table(nsfd, NETISOLATE_TABLE, &has, why, why_len);
    (void)close(nsfd);
    if (rc == ATT_OK) {
        *isolated = has;
    }
    return rc;
}
