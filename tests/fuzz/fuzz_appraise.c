/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the appraisal of the records an agent writes
 * (att_appraise_entries, common/src/appraise.c): the input is an IMA binary
 * log; whatever parses is appraised against a fixed policy with container,
 * posture and network sections, so the record parsers behind it (container:,
 * rootfs:, packages:, violation:, quarantine:, admission:, netpolicy:,
 * netdrift:, log-gap, order:refused and "<id>:<path>" entries) see fuzzed
 * text. Every finding must carry a message and a code.
 * Seeds: tests/fuzz/corpus/appraise/ (tests/fuzz/seedgen.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/appraise.h"
#include "attest/imalog.h"
#include "attest/policy.h"
#include "attest/policy_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_json[] =
    "{\"version\": 1, \"reference_values\": {\"/usr/bin/x\": [\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\"]},"
    " \"containers\": [{\"name\": \"app\", \"images\": [\"sha256:"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],"
    " \"files\": {\"/bin/ls\": [\"sha256:"
    "2222222222222222222222222222222222222222222222222222222222222222\"]},"
    " \"exclude\": [\"/tmp/\"], \"posture\": {\"privileged\": false, \"forbid_caps\":"
    " [\"CAP_SYS_ADMIN\"], \"require_seccomp\": true},"
    " \"network\": {\"default\": \"deny\", \"rules\": [{\"direction\": \"egress\","
    " \"protocol\": \"tcp\", \"cidr\": \"10.0.0.0/8\", \"ports\": \"80\"}]}},"
    " {\"name\": \"strict\", \"images\": [\"sha256:"
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct att_policy *policy;
    struct att_ima_log log;
    struct att_appraisal a;
    size_t i;

    if (policy == NULL &&
        att_policy_parse_json(policy_json, sizeof(policy_json) - 1, &policy, NULL, 0) != ATT_OK) {
        abort();
    }
    att_ima_log_init(&log);
    if (att_ima_log_parse(data, size, 4096, &log, NULL, 0) == ATT_OK) {
        att_appraisal_init(&a);
        if (att_appraise_entries(log.entries, log.count, 7, policy, &a) == ATT_OK) {
            for (i = 0; i < a.n_findings; i++) {
                if (a.findings[i].message == NULL || a.findings[i].code[0] == '\0') {
                    abort();
                }
            }
        }
        att_appraisal_cleanup(&a);
    }
    att_ima_log_cleanup(&log);
    return 0;
}
