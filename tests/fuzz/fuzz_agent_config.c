/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the agent's INI config (--config FILE): libinih's
 * parser, then the agent's own handler and value checks (ini_cb() and
 * apply() in agent/main.c), on the text as ini_parse() would read it from
 * the file. Those are static, so this file includes agent/main.c with its
 * main() renamed; the settings are freed by main.c's own settings_cleanup(). Seeds:
 * tests/fuzz/corpus/ agent_config/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int agent_main(int argc, char **argv);
#define main agent_main
#include "../../agent/main.c" /* NOLINT(bugprone-suspicious-include) */
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct settings s;
    struct ini_ctx c;
    char *text = malloc(size + 1);

    if (text == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(text, data, size);
    }
    text[size] = '\0';
    settings_init(&s);
    memset(&c, 0, sizeof(c));
    c.s = &s;
    (void)ini_parse_string(text, ini_cb, &c);
    if (strnlen(c.why, sizeof(c.why)) >= sizeof(c.why)) {
        abort();
    }
    settings_cleanup(&s);
    free(text);
    return 0;
}
