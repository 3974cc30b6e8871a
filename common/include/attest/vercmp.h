/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Package version ordering (issue 8): Debian versions exactly as dpkg orders
 * them (deb-version(7): [epoch:]upstream[-revision], '~' before everything,
 * letters before non-letters, digit runs numerically), and Alpine apk
 * versions as apk-tools orders them. Pure functions over NUL-terminated
 * strings; no allocation, no globals.
 */
#ifndef ATT_COMMON_VERCMP_H
#define ATT_COMMON_VERCMP_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Whether @p v is a version dpkg accepts (the checks of dpkg's parseversion:
 * non-empty, no blanks, a numeric epoch that fits an int when present, an
 * upstream part that starts with a digit, only allowed characters in each
 * part). On false, @p why (may be NULL) names the problem.
 */
bool att_debver_valid(const char *v, char *why, size_t why_len);
/** <0, 0 or >0 as @p a sorts before, equal to or after @p b, as `dpkg --compare-versions`. */
int att_debver_cmp(const char *a, const char *b);

/** Whether @p v is a version apk-tools accepts (digits[.digits]*[letter][_suffix[N]]*[-rN]). */
bool att_apkver_valid(const char *v);
/** <0, 0 or >0 as apk-tools orders @p a and @p b (both valid). */
int att_apkver_cmp(const char *a, const char *b);

#endif
