/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs attribute reading and parsing: siov_parse_u32() against a reference
 * parser, siov_read_attr_at() on a file holding the input (also past the
 * 64 KiB limit), siov_read_u32_reason() and its reason text, and
 * siov_read_attr_at() with the input as a file name (it must refuse
 * absolute names and ".." components).
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int dir_fd = -1;

static int reference_parse_u32(const char *s, uint32_t *ret) {
        uint64_t v = 0;
        bool big = false;
        size_t i = 0;

        if (!(s[0] >= '0' && s[0] <= '9'))
                return -EINVAL;
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (!big)
                        v = v * 10 + (uint64_t) (s[i] - '0');
                if (v > UINT32_MAX)
                        big = true;
        }
        if (s[i] == '\n')
                i++;
        if (s[i] != '\0')
                return -EINVAL;
        if (big)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

static void write_file(const char *name, const uint8_t *data, size_t size, unsigned copies) {
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        fuzz_assert(fd >= 0);
        for (unsigned i = 0; i < copies; i++)
                fuzz_assert(write(fd, data, size) == (ssize_t) size);
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size), *got = NULL, *reasons = NULL;
        uint32_t v = 0, w = 0;
        unsigned copies = 1;
        int r, k;

        if (dir_fd < 0) {
                char tmpl[] = "/tmp/siov-fuzz-attr.XXXXXX";

                fuzz_assert(mkdtemp(tmpl));
                dir_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                fuzz_assert(dir_fd >= 0);
                fuzz_assert(mkdirat(dir_fd, "sub", 0700) == 0);
        }

        /* the parser */
        r = siov_parse_u32(s, &v);
        k = reference_parse_u32(s, &w);
        fuzz_assert(r == k);
        if (r == 0)
                fuzz_assert(v == w);

        /* the reader, on the bytes as a file; a leading 0xff repeats them
         * past the 64 KiB limit */
        if (size > 0 && data[0] == 0xff)
                copies = 20;
        write_file("attr", data, size, copies);
        r = siov_read_attr_at(dir_fd, "attr", &got);
        if ((size_t) copies * size > SIOV_ATTR_MAX)
                fuzz_assert(r == -EFBIG && !got);
        else {
                size_t n = size;

                fuzz_assert(r == 0 && got);
                if (copies == 1) {
                        /* one trailing newline stripped; a NUL ends the string */
                        if (n > 0 && data[n - 1] == '\n')
                                n--;
                        fuzz_assert(strlen(got) <= n);
                        fuzz_assert(memcmp(got, data, strlen(got)) == 0);
                        fuzz_assert(strlen(got) == n || data[strlen(got)] == '\0');
                }
        }

        /* read + parse + reason */
        if (copies == 1) {
                r = siov_read_u32_reason(dir_fd, "attr", "label", &v, &reasons);
                if (r == 0) {
                        fuzz_assert(!reasons);
                        fuzz_assert(siov_parse_u32(got, &w) == 0 && v == w);
                } else {
                        fuzz_assert(r != -ENOMEM);
                        fuzz_assert(v == 0);
                        fuzz_assert_message(reasons);
                        fuzz_assert(strncmp(reasons, "label: ", 7) == 0);
                }
        }

        /* the input as a name below dir_fd/sub: never out of it */
        got = mfree(got);
        {
                int sub = openat(dir_fd, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                fuzz_assert(sub >= 0);
                r = siov_read_attr_at(sub, s, &got);
                close(sub);
                /* sub is empty: only sub itself (".") can be opened */
                fuzz_assert(r < 0);
                if (r == -EISDIR) {
                        fuzz_assert(s[0] != '/');
                        for (const char *c = s; *c; ) {
                                size_t n = strcspn(c, "/");

                                fuzz_assert(!(n == 2 && c[0] == '.' && c[1] == '.'));
                                c += n;
                                c += strspn(c, "/");
                        }
                }
        }
        return 0;
}
