# SPDX-License-Identifier: Apache-2.0
# ATT_SANITIZE=address,undefined builds everything with the sanitizers and no recovery.
if(ATT_SANITIZE)
  add_compile_options(-fsanitize=${ATT_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${ATT_SANITIZE} -fno-sanitize-recover=all)
endif()
