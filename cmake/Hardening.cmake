# SPDX-License-Identifier: Apache-2.0
# Hardening flags as OpenSSH and tpm2-tools set them (shared/STYLE.md §9).
include(CheckCCompilerFlag)
add_compile_options(-fstack-protector-strong -fstack-clash-protection)
check_c_compiler_flag(-ftrivial-auto-var-init=zero ATT_HAVE_AUTO_VAR_INIT)
if(ATT_HAVE_AUTO_VAR_INIT)
  add_compile_options(-ftrivial-auto-var-init=zero)
endif()
if(NOT ATT_SANITIZE AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  # _FORTIFY_SOURCE needs optimisation; gcc 12 knows level 3.
  add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
endif()
add_link_options(-pie -Wl,-z,relro,-z,now,-z,noexecstack)
