/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The package inventory of a container image (issue 8): the OS identity from
 * /etc/os-release (or /usr/lib/os-release) and the installed packages from
 * the dpkg database (/var/lib/dpkg/status and, for distroless images, every
 * file of /var/lib/dpkg/status.d/) or from apk's /lib/apk/db/installed.
 *
 * Reading is bounded (file sizes, package count, field lengths) and confined
 * to the rootfs (openat2 RESOLVE_IN_ROOT: an image's symlinks cannot reach
 * the host). Malformed databases are errors naming file and line, never a
 * partial inventory.
 *
 * The canonical text form is what the agent measures (an ima-buf record) and
 * the verifier appraises, so both judge exactly the same bytes:
 *   attest-inventory 1\n
 *   os <ID> <VERSION_ID> <VERSION_CODENAME>\n        ("-" for a missing field)
 *   ecosystem <Debian:12 | Alpine:v3.18 | ->\n
 *   format <dpkg | apk | none>\n
 *   pkg <name> <version> <arch> <source> <source-version>\n   (sorted by name, arch)
 * Every token is printable ASCII without blanks.
 * Memory: an inventory owns all its strings; att_inventory_free() releases it.
 */
#ifndef ATT_COMMON_INVENTORY_H
#define ATT_COMMON_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"

#define ATT_INV_MAX_PKGS   50000u              /* more is a corrupt database */
#define ATT_INV_MAX_DB     (64u * 1024u * 1024u) /* one dpkg status / apk db file */
#define ATT_INV_MAX_TOKEN  256u                /* one name, version, arch */
#define ATT_INV_MAX_TEXT   (8u * 1024u * 1024u) /* canonical text */

enum att_pkg_format { ATT_PKG_NONE = 0, ATT_PKG_DPKG = 1, ATT_PKG_APK = 2 };

struct att_pkg {
    char *name;           /* owned: binary package ("libc6"; apk P:) */
    char *version;        /* owned: installed version */
    char *arch;           /* owned: "amd64", "all", apk A:; "-" if not given */
    char *source;         /* owned: source package (dpkg Source:, apk o:), = name if none */
    char *source_version; /* owned: "Source: x (ver)" version, else = version */
};

struct att_inventory {
    char os_id[64];         /* "debian", "alpine"; "" when unknown */
    char os_version_id[64]; /* "12", "3.18.4"; "" when unknown */
    char os_codename[64];   /* "bookworm"; "" when unknown */
    char ecosystem[80];     /* OSV ecosystem: "Debian:12", "Alpine:v3.18"; "" when unknown */
    enum att_pkg_format format;
    struct att_pkg *pkgs;   /* owned, sorted by (name, arch) */
    size_t n_pkgs;
};

/**
 * Read the inventory of the root filesystem open at @p rootfd. An image with
 * no package database is a valid inventory with format ATT_PKG_NONE and no
 * packages. Missing os-release leaves the os fields and ecosystem empty.
 * @retval ATT_OK @retval ATT_ERR_PARSE  a corrupt or oversized database
 *         (@p why names the file and line) @retval ATT_ERR_IO @retval ATT_ERR_NOMEM
 */
att_rc att_inventory_from_rootfs(int rootfd, struct att_inventory **out, char *why,
                                 size_t why_len);
/** The same for a directory path (opened O_DIRECTORY). */
att_rc att_inventory_from_dir(const char *path, struct att_inventory **out, char *why,
                              size_t why_len);
/** Append the canonical text of @p inv to @p out. */
att_rc att_inventory_canonical(const struct att_inventory *inv, struct att_buf *out);
/**
 * Parse canonical text (strict: header, field order, token syntax, sorted
 * unique packages, at most ATT_INV_MAX_PKGS; anything else is ATT_ERR_PARSE
 * with @p why naming the line).
 */
att_rc att_inventory_parse(const char *text, size_t len, struct att_inventory **out, char *why,
                           size_t why_len);
void att_inventory_free(struct att_inventory *inv);

#endif
