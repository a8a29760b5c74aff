/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent configuration of SR-IOV physical functions, one file per PF,
 * <dir>/<pf>.json:
 *
 *   {"pf": "0000:01:00.0", "numvfs": 2, "autoprobe": false,
 *    "vfs": {"0": {"mac": "02:00:00:00:00:01", "vlan": 100, "trust": false}}}
 *
 * "vfs" holds per-VF network settings by VF index (the keys of a
 * definition's "vf_net").
 * Every key but "pf" is optional. The JSON object itself is the storage, so
 * keys a newer siovd writes survive an older one. Parsed as strictly as
 * device definitions; written atomically (siov_write_file_atomic()).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "siov-private.h"

#define PF_CONFIG_MAX_SIZE (64u * 1024u)
#define NUMVFS_MAX 65535

struct siov_pf_config {
        unsigned n_ref;
        char pf[32];
        struct json_object *o;
};

_public_ struct siov_pf_config *siov_pf_config_ref(struct siov_pf_config *c) {
        if (c)
                c->n_ref++;
        return c;
}

_public_ struct siov_pf_config *siov_pf_config_unref(struct siov_pf_config *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        json_object_put(c->o);
        free(c);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct siov_pf_config *, siov_pf_config_unref);

static int config_alloc(const char *pf, struct json_object *o, struct siov_pf_config **ret) {
        struct siov_pf_config *c;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        snprintf(c->pf, sizeof(c->pf), "%s", pf);
        c->o = o;
        *ret = c;
        return 0;
}

_public_ int siov_pf_config_new(struct siov_pf_config **ret, const char *pf) {
        struct json_object *o, *s;
        int r;

        if (!ret || !siov_pci_address_is_valid(pf))
                return -EINVAL;
        o = json_object_new_object();
        s = json_object_new_string(pf);
        if (!o || !s || json_object_object_add(o, "pf", s) < 0) {
                json_object_put(o);
                json_object_put(s);
                return -ENOMEM;
        }
        r = config_alloc(pf, o, ret);
        if (r < 0)
                json_object_put(o);
        return r;
}

_public_ int siov_pf_config_copy(const struct siov_pf_config *c, struct siov_pf_config **ret) {
        struct json_object *o = NULL;
        int r;

        if (!c || !ret)
                return -EINVAL;
        if (json_object_deep_copy(c->o, &o, NULL) < 0)
                return -ENOMEM;
        r = config_alloc(c->pf, o, ret);
        if (r < 0)
                json_object_put(o);
        return r;
}

_public_ const char *siov_pf_config_get_pf(const struct siov_pf_config *c) {
        return c ? c->pf : NULL;
}

_public_ int siov_pf_config_get_numvfs(const struct siov_pf_config *c) {
        struct json_object *v;

        if (!c || !json_object_object_get_ex(c->o, "numvfs", &v))
                return -1;
        return json_object_get_int(v);
}

_public_ int siov_pf_config_get_autoprobe(const struct siov_pf_config *c) {
        struct json_object *v;

        if (!c || !json_object_object_get_ex(c->o, "autoprobe", &v))
                return -1;
        return json_object_get_boolean(v) ? 1 : 0;
}

static int set_key(struct siov_pf_config *c, const char *key, struct json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(c->o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

_public_ int siov_pf_config_set_numvfs(struct siov_pf_config *c, int n) {
        if (!c || n > NUMVFS_MAX)
                return -EINVAL;
        if (n < 0) {
                json_object_object_del(c->o, "numvfs");
                return 0;
        }
        return set_key(c, "numvfs", json_object_new_int(n));
}

_public_ int siov_pf_config_set_autoprobe(struct siov_pf_config *c, int on) {
        if (!c)
                return -EINVAL;
        if (on < 0) {
                json_object_object_del(c->o, "autoprobe");
                return 0;
        }
        return set_key(c, "autoprobe", json_object_new_boolean(on > 0));
}

_public_ bool siov_pf_config_get_vf_net(const struct siov_pf_config *c, uint32_t vf, struct siov_vf_net *ret) {
        struct json_object *vfs, *v;
        char key[16];

        siov_vf_net_init(ret);
        snprintf(key, sizeof(key), "%u", vf);
        if (!c || !json_object_object_get_ex(c->o, "vfs", &vfs) || !json_object_object_get_ex(vfs, key, &v))
                return false;
        /* Checked when parsed or set. */
        return siov_vf_net_from_json(v, ret, NULL) >= 0 && siov_vf_net_is_set(ret);
}

_public_ int siov_pf_config_set_vf_net(struct siov_pf_config *c, uint32_t vf, const struct siov_vf_net *n) {
        struct json_object *vfs = NULL, *v = NULL;
        char key[16];
        int r;

        if (!c || vf > NUMVFS_MAX || (n && siov_vf_net_check(n, NULL) < 0))
                return -EINVAL;
        snprintf(key, sizeof(key), "%u", vf);
        if (!json_object_object_get_ex(c->o, "vfs", &vfs)) {
                if (!n || !siov_vf_net_is_set(n))
                        return 0;
                r = set_key(c, "vfs", json_object_new_object());
                if (r < 0)
                        return r;
                json_object_object_get_ex(c->o, "vfs", &vfs);
        }
        if (!n || !siov_vf_net_is_set(n)) {
                json_object_object_del(vfs, key);
                if (json_object_object_length(vfs) == 0)
                        json_object_object_del(c->o, "vfs");
                return 0;
        }
        r = siov_vf_net_to_json(n, &v);
        if (r < 0)
                return r;
        if (json_object_object_add(vfs, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

_public_ bool siov_pf_config_equal(const struct siov_pf_config *a, const struct siov_pf_config *b) {
        if (!a || !b)
                return a == b;
        return streq(a->pf, b->pf) && json_object_equal(a->o, b->o);
}

_public_ int siov_pf_config_parse(const char *json, size_t len, struct siov_pf_config **ret, char **error_msg) {
        _cleanup_free_ char *reason = NULL;
        struct json_object *o = NULL, *v;
        const char *pf;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!json || !ret)
                return -EINVAL;
        if (len > PF_CONFIG_MAX_SIZE)
                return siov_error(error_msg, -EFBIG, "larger than %u bytes", PF_CONFIG_MAX_SIZE);
        r = siov_json_parse_strict(json, len, &o, &reason);
        if (r < 0)
                return siov_error(error_msg, r == -ENOMEM ? r : -EINVAL, "%s", reason ?: strerror(-r));

#define REFUSE(...) do { json_object_put(o); return siov_error(error_msg, -EINVAL, __VA_ARGS__); } while (0)
        if (!json_object_is_type(o, json_type_object))
                REFUSE("not a JSON object");
        if (!json_object_object_get_ex(o, "pf", &v) || !json_object_is_type(v, json_type_string))
                REFUSE("\"pf\" must be a string");
        pf = json_object_get_string(v);
        if (!siov_pci_address_is_valid(pf))
                REFUSE("\"pf\" is not a PCI address (dddd:bb:dd.f)");
        if (json_object_object_get_ex(o, "numvfs", &v)) {
                int64_t n;

                if (!json_object_is_type(v, json_type_int))
                        REFUSE("\"numvfs\" must be a number");
                n = json_object_get_int64(v);
                if (n < 0 || n > NUMVFS_MAX)
                        REFUSE("\"numvfs\" must be 0..%d", NUMVFS_MAX);
        }
        if (json_object_object_get_ex(o, "autoprobe", &v) && !json_object_is_type(v, json_type_boolean))
                REFUSE("\"autoprobe\" must be true or false");
        if (json_object_object_get_ex(o, "vfs", &v)) {
                if (!json_object_is_type(v, json_type_object))
                        REFUSE("\"vfs\" must be an object of VF index → settings");
                json_object_object_foreach(v, key, settings) {
                        _cleanup_free_ char *why = NULL;
                        struct siov_vf_net n;
                        char name[17];  /* REFUSE frees the object, and key with it */
                        uint32_t idx;

                        snprintf(name, sizeof(name), "%s", key);
                        siov_utf8_sanitize(name);
                        if (siov_parse_u32(key, &idx) < 0 || idx > NUMVFS_MAX || (key[0] == '0' && key[1]))
                                REFUSE("\"vfs\": '%s' is not a VF index (0-%d)", name, NUMVFS_MAX);
                        r = siov_vf_net_from_json(settings, &n, &why);
                        if (r == -ENOMEM) {
                                json_object_put(o);
                                return r;
                        }
                        if (r < 0)
                                REFUSE("\"vfs\".%s: %s", name, strempty(why));
                }
        }
#undef REFUSE
        r = config_alloc(pf, o, ret);
        if (r < 0)
                json_object_put(o);
        return r;
}

_public_ int siov_pf_config_to_json(const struct siov_pf_config *c, char **ret) {
        const char *s;

        if (!c || !ret)
                return -EINVAL;
        s = json_object_to_json_string_ext(c->o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || asprintf(ret, "%s\n", s) < 0)
                return -ENOMEM;
        return 0;
}

_public_ int siov_pf_config_save(const char *dir, const struct siov_pf_config *c, char **error_msg) {
        _cleanup_free_ char *json = NULL;
        char name[48];
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!c)
                return -EINVAL;
        r = siov_pf_config_to_json(c, &json);
        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "%s.json", c->pf);
        return siov_write_file_atomic(dir, name, json, strlen(json), error_msg);
}

_public_ int siov_pf_config_delete(const char *dir, const char *pf, char **error_msg) {
        _cleanup_close_ int dfd = -1;
        char name[48];

        if (error_msg)
                *error_msg = NULL;
        if (!siov_pci_address_is_valid(pf))
                return siov_error(error_msg, -EINVAL, "invalid PCI address");
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return siov_error(error_msg, -errno, "cannot open %s: %s", dir, strerror(errno));
        snprintf(name, sizeof(name), "%s.json", pf);
        if (unlinkat(dfd, name, 0) < 0)
                return siov_error(error_msg, -errno, "removing %s/%s failed: %s", dir, name, strerror(errno));
        if (fsync(dfd) < 0)
                return siov_error(error_msg, -errno, "%s/%s was removed but syncing %s failed: %s",
                                  dir, name, dir, strerror(errno));
        return 0;
}

static int config_ptr_cmp(const void *a, const void *b) {
        return strcmp((*(struct siov_pf_config * const *) a)->pf, (*(struct siov_pf_config * const *) b)->pf);
}

_public_ int siov_pf_configs_load(const char *dir, struct siov_pf_config ***ret, size_t *n_ret,
                                  siov_pf_config_error_t on_error, void *userdata) {
        _cleanup_closedir_ DIR *d = NULL;
        struct siov_pf_config **l = NULL;
        size_t n = 0;
        struct dirent *de;

        if (!ret || !n_ret)
                return -EINVAL;
        *ret = NULL;
        *n_ret = 0;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        FOREACH_DIRENT(de, d) {
                _cleanup_(siov_pf_config_unrefp) struct siov_pf_config *c = NULL;
                _cleanup_free_ char *text = NULL, *msg = NULL;
                char pf[32], path[PATH_MAX];
                size_t len, nl = strlen(de->d_name);
                struct siov_pf_config **m;
                int r;

                /* Dot files are temporary files of a save in progress. */
                if (de->d_name[0] == '.' || nl <= 5 || !streq(de->d_name + nl - 5, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                snprintf(pf, sizeof(pf), "%.*s", (int) (nl - 5), de->d_name);
                if (nl - 5 >= sizeof(pf) || !siov_pci_address_is_valid(pf)) {
                        if (on_error)
                                on_error(path, pf, "the name is not <PCI address>.json", userdata);
                        continue;
                }
                r = siov_read_file_at(dirfd(d), de->d_name, PF_CONFIG_MAX_SIZE, &text, &len);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0) {
                        if (on_error)
                                on_error(path, pf, r == -EFBIG ? "larger than 65536 bytes" : strerror(-r), userdata);
                        continue;
                }
                r = siov_pf_config_parse(text, len, &c, &msg);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0) {
                        if (on_error)
                                on_error(path, pf, msg ?: strerror(-r), userdata);
                        continue;
                }
                if (!streq(c->pf, pf)) {
                        if (on_error)
                                on_error(path, pf, "its \"pf\" is another PF than its name says", userdata);
                        continue;
                }
                m = reallocarray(l, n + 1, sizeof(*l));
                if (!m)
                        goto oom;
                l = m;
                l[n++] = TAKE_PTR(c);
        }
        if (n > 1)
                qsort(l, n, sizeof(*l), config_ptr_cmp);
        *ret = l;
        *n_ret = n;
        return 0;
oom:
        siov_pf_configs_free(l, n);
        return -ENOMEM;
}

_public_ void siov_pf_configs_free(struct siov_pf_config **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                siov_pf_config_unref(l[i]);
        free(l);
}
