/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Our words for why jansson refused a document (jansson's own error text
 * stays out of the reasons we give users). Returns a static string.
 */
#ifndef ATT_PROTO_JSON_WHAT_H
#define ATT_PROTO_JSON_WHAT_H

#include <jansson.h>

const char *att_json_error_what(const json_error_t *err);

#endif
