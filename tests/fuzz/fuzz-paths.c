/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Path containment: sysfs link texts resolved against the folder they sit
 * in (siov_path_resolve_lexical, siov_link_stays_inside) and root-relative
 * paths (siov_ctx_path) must never lead out of the root prefix.
 *
 * Input: byte 0 picks the root ("" = the real "/", or a prefix); the rest
 * is "base\ntarget" (no newline: base "/sys/class/mdev_bus").
 */

#include <errno.h>

#include "fuzz.h"

static bool is_canonical(const char *p) {
        /* "" or "/a/b": no "", "." or ".." components, no trailing '/' */
        if (!*p)
                return true;
        if (p[0] != '/')
                return false;
        for (const char *c = p + 1; ; ) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
                if (!*c)
                        return true;
                c++;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *joined = NULL;
        struct siov_ctx ctx = { .n_ref = 1, .root_fd = -1 };
        char ret[PATH_MAX];
        const char *base = "/sys/class/mdev_bus", *target;
        char *nl;
        int r;

        if (size < 1)
                return 0;
        ctx.root = (char *) ((data[0] & 1) ? "/tmp/fake-root" : "");
        s = fuzz_strndup(data + 1, size - 1);
        nl = strchr(s, '\n');
        if (nl) {
                *nl = '\0';
                base = s;
                target = nl + 1;
        } else
                target = s;

        if (is_canonical(base) && strlen(base) < PATH_MAX) {
                bool inside = siov_link_stays_inside(&ctx, siov_path_depth(base), target);

                r = siov_path_resolve_lexical(&ctx, base, target, ret);
                if (r == 0) {
                        fuzz_assert(inside);
                        fuzz_assert(streq(ret, "/") || is_canonical(ret));  /* "/": the root itself */
                        fuzz_assert(strlen(ret) < PATH_MAX);
                } else
                        fuzz_assert(r == -EXDEV || r == -ENAMETOOLONG);
                if (target[0] != '/') {
                        /* relative: the two agree on escaping */
                        if (r != -ENAMETOOLONG)
                                fuzz_assert(inside == (r != -EXDEV));
                } else if (ctx.root[0])
                        /* absolute in a prefixed tree: always out */
                        fuzz_assert(!inside && r == -EXDEV);
        }

        joined = siov_ctx_path(&ctx, target);
        if (joined) {
                const char *rel = joined + strlen(ctx.root);

                fuzz_assert(strncmp(joined, ctx.root, strlen(ctx.root)) == 0);
                fuzz_assert(rel[0] == '/');
                for (const char *c = rel; *c; ) {
                        size_t n;

                        c += strspn(c, "/");
                        n = strcspn(c, "/");
                        fuzz_assert(!(n == 2 && c[0] == '.' && c[1] == '.'));
                        c += n;
                }
        }
        return 0;
}
