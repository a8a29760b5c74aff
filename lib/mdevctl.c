/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdevctl's definitions, /etc/mdevctl.d/<parent>/<uuid>:
 *   {"mdev_type": "T", "start": "auto"|"manual", "attrs": [{"name": "value"}, ...]}
 * read as strictly as our own, so that an import takes exactly what
 * mdevctl would have created and says why it refuses anything else.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "siov-private.h"

#define MDEVCTL_KEY_TYPE  "mdev_type"
#define MDEVCTL_KEY_START "start"
#define MDEVCTL_KEY_ATTRS "attrs"
#define MDEVCTL_SCRIPTS   "scripts.d"

static inline void json_object_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}

_public_ int siov_mdevctl_parse(const char *parent, const char *uuid, const char *json, size_t len,
                                struct siov_definition **ret, char **error_msg) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        _cleanup_(json_object_putp) struct json_object *o = NULL, *extra = NULL;
        _cleanup_free_ char *reason = NULL, *e = NULL;
        const char *type = NULL, *start = NULL;
        struct json_object *attrs = NULL;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!json || !ret)
                return -EINVAL;
        if (!siov_name_is_valid(parent)) {
                e = siov_escape_value(strempty(parent));
                return siov_error(error_msg, -EINVAL, "parent: not a valid device name: '%s'", strempty(e));
        }
        if (!siov_uuid_is_valid(uuid)) {
                e = siov_escape_value(strempty(uuid));
                return siov_error(error_msg, -EINVAL, "not a UUID: '%s'", strempty(e));
        }
        r = siov_definition_json_parse(json, len, &o, error_msg);
        if (r < 0)
                return r;

        json_object_object_foreach(o, key, v) {
                if (streq(key, MDEVCTL_KEY_TYPE) || streq(key, MDEVCTL_KEY_START)) {
                        if (!json_object_is_type(v, json_type_string))
                                return siov_error(error_msg, -EINVAL, "%s: expected a string", key);
                        if (streq(key, MDEVCTL_KEY_TYPE))
                                type = json_object_get_string(v);
                        else
                                start = json_object_get_string(v);
                } else if (streq(key, MDEVCTL_KEY_ATTRS))
                        attrs = v;
                else if (siov_definition_key_is_reserved(key))
                        /* Not an mdevctl key but one of siovd's: taking it
                         * along would smuggle an unchecked parent, type or
                         * VM into the definition. */
                        return siov_error(error_msg, -EINVAL, "'%s' is not an mdevctl key (it is one of siovd's)", key);
                else {
                        r = siov_definition_extra_add(&extra, key, v);
                        if (r < 0)
                                return r;
                }
        }

        if (!type)
                return siov_error(error_msg, -EINVAL, "missing key '" MDEVCTL_KEY_TYPE "'");
        if (!siov_name_is_valid(type)) {
                e = siov_escape_value(type);
                return siov_error(error_msg, -EINVAL, MDEVCTL_KEY_TYPE ": not a valid type name: '%s'", strempty(e));
        }
        if (!start)
                return siov_error(error_msg, -EINVAL, "missing key '" MDEVCTL_KEY_START "'");
        if (!streq(start, "auto") && !streq(start, "manual")) {
                e = siov_escape_value(start);
                return siov_error(error_msg, -EINVAL, MDEVCTL_KEY_START ": expected \"auto\" or \"manual\", got '%s'",
                                  strempty(e));
        }

        r = siov_definition_new(&d, uuid, parent, type);
        if (r < 0)
                return r;
        siov_definition_set_autostart(d, streq(start, "auto"));
        if (attrs) {
                r = siov_definition_attrs_from_json(d, attrs, &reason);
                if (r == -EINVAL)
                        return siov_error(error_msg, r, "%s", reason);
                if (r < 0)
                        return r;
        }
        siov_definition_set_extra(d, extra);
        *ret = TAKE_PTR(d);
        return 0;
}

struct import {
        siov_mdevctl_cb_t cb;
        void *userdata;
        int seen;
};

/* Calls back with def or with a reason (formatted, made valid UTF-8). */
_printf_(6, 7) static int import_report(struct import *im, const char *path, const char *parent,
                                        const char *uuid, struct siov_definition *def, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL, *pa = NULL, *u = NULL, *reason = NULL;
        va_list ap;

        im->seen++;
        if (!im->cb)
                return 0;
        p = strdup(path);
        pa = strdup(parent);
        u = strdup(uuid);
        if (!p || !pa || !u)
                return -ENOMEM;
        siov_utf8_sanitize(p);
        siov_utf8_sanitize(pa);
        siov_utf8_sanitize(u);
        if (fmt) {
                int r;

                va_start(ap, fmt);
                r = vasprintf(&reason, fmt, ap);
                va_end(ap);
                if (r < 0)
                        return -ENOMEM;
                siov_utf8_sanitize(reason);
        }
        im->cb(p, pa, u, def, reason, im->userdata);
        return 0;
}

static int import_parent(struct import *im, int top_fd, const char *dir, const char *parent) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int pfd = -1;
        _cleanup_free_ char *ppath = NULL;
        int r;

        if (asprintf(&ppath, "%s/%s", dir, parent) < 0)
                return -ENOMEM;
        pfd = openat(top_fd, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0)
                return errno == ENOMEM ? -ENOMEM :
                        import_report(im, ppath, parent, "", NULL, "cannot open the parent folder: %s",
                                      strerror(errno));
        r = siov_list_dir_sorted(pfd, &names);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return import_report(im, ppath, parent, "", NULL, "cannot read the parent folder: %s", strerror(-r));

        for (char **name = names; name && *name; name++) {
                _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL, *msg = NULL;
                char id[SIOV_UUID_STRING_MAX], why[64];
                size_t len;

                if ((*name)[0] == '.')
                        continue;       /* editors' and tools' hidden files */
                if (asprintf(&path, "%s/%s", ppath, *name) < 0)
                        return -ENOMEM;
                if (siov_uuid_normalize(*name, id) < 0) {
                        _cleanup_free_ char *e = siov_escape_value(*name);
                        if (!e)
                                return -ENOMEM;
                        r = import_report(im, path, parent, e, NULL, "the file name is not a UUID");
                        if (r < 0)
                                return r;
                        continue;
                }
                r = siov_read_file_at(pfd, *name, SIOV_DEFINITION_MAX_SIZE, &text, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        r = import_report(im, path, parent, id, NULL, "%s", siov_definition_read_error(r, why));
                else {
                        r = siov_mdevctl_parse(parent, id, text, len, &def, &msg);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                r = import_report(im, path, parent, id, NULL, "%s", msg ?: strerror(-r));
                        else
                                r = import_report(im, path, parent, id, def, NULL);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

_public_ int siov_mdevctl_import_dir(const char *dir, siov_mdevctl_cb_t cb, void *userdata) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -1;
        struct import im = { .cb = cb, .userdata = userdata };
        int r;

        if (isempty(dir))
                return -EINVAL;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = siov_list_dir_sorted(fd, &names);
        if (r < 0)
                return r;

        for (char **name = names; name && *name; name++) {
                _cleanup_free_ char *path = NULL;
                const char *refused = NULL;
                struct stat st;

                if (streq(*name, MDEVCTL_SCRIPTS) || (*name)[0] == '.')
                        continue;
                if (fstatat(fd, *name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;       /* gone meanwhile */
                if (asprintf(&path, "%s/%s", dir, *name) < 0)
                        return -ENOMEM;
                if (S_ISLNK(st.st_mode))
                        refused = "the parent folder is a symbolic link, not followed";
                else if (!S_ISDIR(st.st_mode))
                        continue;       /* not a parent folder: nothing mdevctl reads */
                else if (!siov_name_is_valid(*name))
                        refused = "the parent folder name is not a valid device name";
                if (refused) {
                        _cleanup_free_ char *e = siov_escape_value(*name);
                        if (!e)
                                return -ENOMEM;
                        r = import_report(&im, path, e, "", NULL, "%s", refused);
                } else
                        r = import_parent(&im, fd, dir, *name);
                if (r < 0)
                        return r;
        }
        return im.seen;
}
