/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every bench program shares: a monotonic clock and the result row,
 * printed as a table line and appended as one JSON line to --json FILE.
 */
#ifndef ATT_BENCH_REPORT_H
#define ATT_BENCH_REPORT_H

#include <stdbool.h>

/** Monotonic seconds. */
double bench_now(void);

/**
 * Print "figure | ours | limit | ratio | target | pass/miss (unit)" and, with
 * @p json, append the same as a JSON line. @p op is ">=" or "<=" against
 * @p target, or "" for an informational figure without a target.
 * @return whether the target is met (true for informational figures)
 */
bool bench_report(const char *bench, bool is_quick, const char *json, const char *figure,
                  const char *unit, double ours, double limit, double ratio, const char *op,
                  double target);

#endif
