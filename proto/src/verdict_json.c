/* SPDX-License-Identifier: Apache-2.0 */
/* Verdict -> JSON (see attest/verdict_json.h). */
#include "attest/verdict_json.h"

#include <stdlib.h>

#include <jansson.h>

static json_t *findings_array(const struct att_appraisal *a)
{
    json_t *list = json_array();
    size_t i;

    if (list == NULL) {
        return NULL;
    }
    for (i = 0; i < a->n_findings; i++) {
        const struct att_finding *f = &a->findings[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "kind",
                              f->kind == ATT_FIND_FAIL ? "fail" : "info", "code", f->code,
                              "message", f->message, "entry",
                              f->entry >= 0 ? json_integer(f->entry) : json_null());

        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

att_rc att_findings_encode_json(const struct att_appraisal *a, struct att_buf *out)
{
    att_rc rc = ATT_ERR_NOMEM;
    json_t *list = findings_array(a);
    char *text = NULL;

    if (list == NULL) {
        goto out;
    }
    text = json_dumps(list, JSON_COMPACT);
    if (text == NULL) {
        goto out;
    }
    rc = att_buf_append_str(out, text);
out:
    free(text);
    json_decref(list);
    return rc;
}

att_rc att_verdict_encode_json(const struct att_appraisal *a, const char *host,
                               const char *agent, const char *ak_trust, struct att_buf *out)
{
    att_rc rc = ATT_ERR_NOMEM;
    json_t *root = json_object();
    json_t *list = findings_array(a);
    char *text = NULL;

    if (root == NULL || list == NULL) {
        goto out;
    }
    if (json_object_set_new(root, "host", json_string(host != NULL ? host : "")) != 0 ||
        json_object_set_new(root, "agent", json_string(agent != NULL ? agent : "")) != 0 ||
        json_object_set_new(root, "verdict",
                            json_string(a->is_trusted ? "trusted" : "untrusted")) != 0 ||
        json_object_set_new(root, "ak_trust", json_string(ak_trust != NULL ? ak_trust : "")) !=
            0 ||
        json_object_set_new(root, "log_entries", json_integer((json_int_t)a->entries_appraised)) !=
            0 ||
        json_object_set_new(root, "reset_count", json_integer(a->reset_count)) != 0 ||
        json_object_set_new(root, "restart_count", json_integer(a->restart_count)) != 0 ||
        json_object_set(root, "findings", list) != 0) {
        goto out;
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        goto out;
    }
    rc = att_buf_append_str(out, text);
    if (rc == ATT_OK) {
        rc = att_buf_append_str(out, "\n");
    }
out:
    free(text);
    json_decref(list);
    json_decref(root);
    return rc;
}
