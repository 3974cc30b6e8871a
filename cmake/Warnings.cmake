# SPDX-License-Identifier: Apache-2.0
# Picky warnings (shared/STYLE.md §9), modelled on curl's PickyWarnings.
set(ATT_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wformat=2 -Wformat-security -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wundef -Wwrite-strings -Wpointer-arith
  -Wcast-qual -Wimplicit-fallthrough -Wnull-dereference)
if(ATT_WERROR)
  list(APPEND ATT_WARNINGS -Werror)
endif()
add_compile_options(${ATT_WARNINGS})
