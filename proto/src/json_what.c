/* SPDX-License-Identifier: Apache-2.0 */
/* See json_what.h. */
#include "attest/json_what.h"

const char *att_json_error_what(const json_error_t *err)
{
    switch (json_error_code(err)) {
    case json_error_end_of_input_expected:
        return "trailing content after the JSON value";
    case json_error_duplicate_key:
        return "duplicate key";
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "NUL character";
    case json_error_numeric_overflow:
        return "number out of range";
    case json_error_out_of_memory:
        return "out of memory";
    case json_error_stack_overflow:
        return "nested too deeply";
    case json_error_premature_end_of_input:
        return "truncated JSON";
    default:
        return "invalid JSON";
    }
}
