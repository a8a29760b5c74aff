/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A device definition: the object, its strict parser and its writer. A
 * definition is read strictly (a file a person edited by hand is refused
 * with a reason rather than half understood). Where the files live and how
 * they are written is definition-store.c.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "siov-names.h"
#include "siov-private.h"

#define KEY_UUID      "uuid"
#define KEY_PARENT    "parent"
#define KEY_TYPE      "type"
#define KEY_AUTOSTART "autostart"
#define KEY_VM        "vm"
#define KEY_OWNER     "owner"
#define KEY_ATTRS     "attrs"
#define KEY_VF_NET    "vf_net"
#define KEY_MAC        "mac"
#define KEY_VLAN       "vlan"
#define KEY_QOS        "qos"
#define KEY_SPOOFCHK   "spoofchk"
#define KEY_TRUST      "trust"
#define KEY_LINK_STATE "link_state"

static inline void json_object_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* ---- the object ------------------------------------------------------ */

static struct siov_definition *definition_free(struct siov_definition *d) {
        free(d->parent);
        free(d->type);
        free(d->vm);
        free(d->owner);
        siov_definition_clear_attrs(d);
        json_object_putp(&d->extra);
        free(d);
        return NULL;
}

_public_ struct siov_definition *siov_definition_ref(struct siov_definition *d) {
        if (d)
                d->n_ref++;
        return d;
}

_public_ struct siov_definition *siov_definition_unref(struct siov_definition *d) {
        if (!d || --d->n_ref > 0)
                return NULL;
        return definition_free(d);
}


static struct siov_definition *definition_alloc(void) {
        struct siov_definition *d = calloc(1, sizeof(*d));

        if (d) {
                d->n_ref = 1;
                siov_vf_net_init(&d->vf_net);
        }
        return d;
}

_public_ int siov_definition_new(struct siov_definition **ret, const char *uuid, const char *parent, const char *type) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        char id[SIOV_UUID_STRING_MAX];

        if (!ret)
                return -EINVAL;
        if (siov_uuid_normalize(uuid, id) < 0 || !siov_name_is_valid(parent) || !siov_name_is_valid(type))
                return -EINVAL;
        d = definition_alloc();
        if (!d)
                return -ENOMEM;
        memcpy(d->uuid, id, sizeof(id));
        d->parent = strdup(parent);
        d->type = strdup(type);
        if (!d->parent || !d->type)
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

_public_ int siov_definition_copy(const struct siov_definition *d, struct siov_definition **ret) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *c = NULL;
        int r;

        if (!d || !ret)
                return -EINVAL;
        r = siov_definition_new(&c, d->uuid, d->parent, d->type);
        if (r < 0)
                return r;
        c->autostart = d->autostart;
        c->vf_net = d->vf_net;
        if (d->vm) {
                c->vm = strdup(d->vm);
                if (!c->vm)
                        return -ENOMEM;
        }
        if (d->owner) {
                c->owner = strdup(d->owner);
                if (!c->owner)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < d->n_attrs; i++) {
                r = siov_definition_add_attr(c, d->attrs[i].name, d->attrs[i].value);
                if (r < 0)
                        return r;
        }
        if (d->extra && json_object_deep_copy(d->extra, &c->extra, NULL) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

_public_ const char *siov_definition_get_uuid(const struct siov_definition *d) {
        return d ? d->uuid : NULL;
}

_public_ const char *siov_definition_get_parent(const struct siov_definition *d) {
        return d ? d->parent : NULL;
}

_public_ const char *siov_definition_get_type(const struct siov_definition *d) {
        return d ? d->type : NULL;
}

_public_ bool siov_definition_get_autostart(const struct siov_definition *d) {
        return d ? d->autostart : false;
}

_public_ const char *siov_definition_get_vm(const struct siov_definition *d) {
        return d ? strempty(d->vm) : NULL;
}

_public_ const char *siov_definition_get_owner(const struct siov_definition *d) {
        return d ? strempty(d->owner) : NULL;
}

_public_ size_t siov_definition_get_n_attrs(const struct siov_definition *d) {
        return d ? d->n_attrs : 0;
}

_public_ const char *siov_definition_get_attr_name(const struct siov_definition *d, size_t i) {
        return d && i < d->n_attrs ? d->attrs[i].name : NULL;
}

_public_ const char *siov_definition_get_attr_value(const struct siov_definition *d, size_t i) {
        return d && i < d->n_attrs ? d->attrs[i].value : NULL;
}

_public_ bool siov_definition_get_vf_net(const struct siov_definition *d, struct siov_vf_net *ret) {
        if (!d || !siov_vf_net_is_set(&d->vf_net)) {
                if (ret)
                        siov_vf_net_init(ret);
                return false;
        }
        if (ret)
                *ret = d->vf_net;
        return true;
}

/* Only a VF has network settings: the definition's type says so. */
_public_ int siov_definition_set_vf_net(struct siov_definition *d, const struct siov_vf_net *n) {
        struct siov_vf_net none;

        if (!d)
                return -EINVAL;
        if (!n) {
                siov_vf_net_init(&none);
                n = &none;
        }
        if (siov_vf_net_check(n, NULL) < 0)
                return -EINVAL;
        if (siov_vf_net_is_set(n) && !streq(d->type, SIOV_VF_TYPE_ID))
                return -EINVAL;
        d->vf_net = *n;
        return 0;
}

_public_ void siov_definition_set_autostart(struct siov_definition *d, bool b) {
        if (d)
                d->autostart = b;
}

/* An optional string field: "" or NULL clears it, else it must be valid. */
static int set_optional(char **field, const char *value, bool (*valid)(const char *s)) {
        char *s = NULL;

        if (!isempty(value)) {
                if (!valid(value))
                        return -EINVAL;
                s = strdup(value);
                if (!s)
                        return -ENOMEM;
        }
        free(*field);
        *field = s;
        return 0;
}

_public_ int siov_definition_set_vm(struct siov_definition *d, const char *vm) {
        return d ? set_optional(&d->vm, vm, vm_name_is_valid) : -EINVAL;
}

_public_ int siov_definition_set_owner(struct siov_definition *d, const char *owner) {
        return d ? set_optional(&d->owner, owner, siov_name_is_valid) : -EINVAL;
}

_public_ int siov_definition_add_attr(struct siov_definition *d, const char *name, const char *value) {
        struct siov_attr *m;
        size_t l;

        if (!d || !value || !siov_mdev_attr_name_is_writable(name))
                return -EINVAL;
        l = strlen(value);
        if (l > SIOV_ATTR_VALUE_MAX || !siov_utf8_is_valid(value, l))
                return -EINVAL;
        if (d->n_attrs >= SIOV_ATTRS_MAX)
                return -E2BIG;
        m = realloc(d->attrs, (d->n_attrs + 1) * sizeof(struct siov_attr));
        if (!m)
                return -ENOMEM;
        d->attrs = m;
        m[d->n_attrs].name = strdup(name);
        m[d->n_attrs].value = strdup(value);
        if (!m[d->n_attrs].name || !m[d->n_attrs].value) {
                free(m[d->n_attrs].name);
                free(m[d->n_attrs].value);
                return -ENOMEM;
        }
        d->n_attrs++;
        return 0;
}

_public_ void siov_definition_clear_attrs(struct siov_definition *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_attrs; i++) {
                free(d->attrs[i].name);
                free(d->attrs[i].value);
        }
        d->attrs = mfree(d->attrs);
        d->n_attrs = 0;
}

static bool extra_is_empty(struct json_object *o) {
        return !o || json_object_object_length(o) == 0;
}

_public_ bool siov_definition_equal(const struct siov_definition *a, const struct siov_definition *b) {
        if (a == b)
                return true;
        if (!a || !b)
                return false;
        if (!streq(a->uuid, b->uuid) || !streq(a->parent, b->parent) || !streq(a->type, b->type) ||
            a->autostart != b->autostart || !streq(strempty(a->vm), strempty(b->vm)) ||
            !streq(strempty(a->owner), strempty(b->owner)) ||
            a->n_attrs != b->n_attrs || !siov_vf_net_equal(&a->vf_net, &b->vf_net))
                return false;
        for (size_t i = 0; i < a->n_attrs; i++)
                if (!streq(a->attrs[i].name, b->attrs[i].name) || !streq(a->attrs[i].value, b->attrs[i].value))
                        return false;
        if (extra_is_empty(a->extra) || extra_is_empty(b->extra))
                return extra_is_empty(a->extra) && extra_is_empty(b->extra);
        return json_object_equal(a->extra, b->extra);
}

bool siov_definition_key_is_reserved(const char *key) {
        return STR_IN_SET(key, KEY_UUID, KEY_PARENT, KEY_TYPE, KEY_AUTOSTART, KEY_VM, KEY_OWNER, KEY_ATTRS, KEY_VF_NET);
}

void siov_definition_set_extra(struct siov_definition *d, struct json_object *extra) {
        json_object_putp(&d->extra);
        d->extra = extra ? json_object_get(extra) : NULL;
}

/* ---- parsing ------------------------------------------------------- */

static const char *json_type_label(struct json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
        case json_type_int:
                return "a number";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "unknown";
}

_printf_(2, 3) static int reason_set(char **reason, const char *fmt, ...) {
        va_list ap;
        int r;

        if (!reason)            /* the caller wants no reason */
                return -EINVAL;
        va_start(ap, fmt);
        r = vasprintf(reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *reason = NULL;
                return -ENOMEM;
        }
        siov_utf8_sanitize(*reason);
        return -EINVAL;
}

/* The string value of key, or a reason why it is not one. */
static int get_string(struct json_object *v, const char *key, const char **ret, char **reason) {
        if (!json_object_is_type(v, json_type_string))
                return reason_set(reason, "%s: expected a string, got %s", key, json_type_label(v));
        *ret = json_object_get_string(v);
        return 0;
}

static int check_name(const char *key, const char *s, char **reason) {
        _cleanup_free_ char *e = NULL;

        if (siov_name_is_valid(s))
                return 0;
        e = siov_escape_value(s);
        if (!e)
                return -ENOMEM;
        return reason_set(reason, "%s: not a valid name (1-255 printable ASCII characters, no '/', "
                          "not '.' or '..'): '%s'", key, e);
}

int siov_definition_attrs_from_json(struct siov_definition *d, struct json_object *a, char **reason) {
        size_t n;
        int r;

        if (!json_object_is_type(a, json_type_array))
                return reason_set(reason, KEY_ATTRS ": expected an array, got %s", json_type_label(a));
        n = json_object_array_length(a);
        if (n > SIOV_ATTRS_MAX)
                return reason_set(reason, KEY_ATTRS ": %zu entries, at most %d allowed", n, SIOV_ATTRS_MAX);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(a, i);
                _cleanup_free_ char *en = NULL;
                const char *value = NULL;

                if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 1)
                        return reason_set(reason, KEY_ATTRS "[%zu]: expected an object with one "
                                          "\"name\": \"value\" pair", i);
                json_object_object_foreach(e, name, v) {
                        if (!json_object_is_type(v, json_type_string))
                                return reason_set(reason, KEY_ATTRS "[%zu]: value of '%s' is %s, expected a string",
                                                  i, siov_name_is_valid(name) ? name : "?", json_type_label(v));
                        value = json_object_get_string(v);
                        if (!siov_mdev_attr_name_is_writable(name)) {
                                en = siov_escape_value(name);
                                if (!en)
                                        return -ENOMEM;
                                return reason_set(reason, KEY_ATTRS "[%zu]: '%s' is not a valid attribute name", i, en);
                        }
                        if (strlen(value) > SIOV_ATTR_VALUE_MAX)
                                return reason_set(reason, KEY_ATTRS "[%zu]: value of %s is longer than %d bytes",
                                                  i, name, SIOV_ATTR_VALUE_MAX);
                        r = siov_definition_add_attr(d, name, value);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return reason_set(reason, KEY_ATTRS "[%zu]: %s refused: %s", i, name, strerror(-r));
                }
        }
        return 0;
}

int siov_definition_json_parse(const char *json, size_t len, struct json_object **ret, char **error_msg) {
        _cleanup_free_ char *reason = NULL;
        int r;

        if (len > SIOV_DEFINITION_MAX_SIZE)
                return siov_error(error_msg, -EFBIG, "%zu bytes, more than the %d a definition may have",
                                  len, SIOV_DEFINITION_MAX_SIZE);
        r = siov_json_parse_strict(json, len, ret, &reason);
        if (r == -EINVAL)
                return siov_error(error_msg, r, "%s", reason);
        return r;
}

int siov_definition_extra_add(struct json_object **extra, const char *key, struct json_object *v) {
        if (!*extra) {
                *extra = json_object_new_object();
                if (!*extra)
                        return -ENOMEM;
        }
        if (json_object_object_add(*extra, key, json_object_get(v)) < 0)
                return -ENOMEM;
        return 0;
}

const char *siov_definition_read_error(int r, char buf[static 64]) {
        if (r == -EFBIG) {
                snprintf(buf, 64, "larger than %d bytes", SIOV_DEFINITION_MAX_SIZE);
                return buf;
        }
        if (r == -ELOOP)
                return "a symbolic link, not followed";
        if (r == -EINVAL || r == -EISDIR)
                return "not a regular file";
        return strerror(-r);
}

/* "vf_net": the network settings of a VF (vf-net.c), every key checked. */
static int get_u32(struct json_object *v, const char *key, uint32_t max, uint32_t *ret, char **reason) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return reason_set(reason, "vf_net.%s: expected a whole number", key);
        i = json_object_get_int64(v);
        if (i < 0 || i > max)
                return reason_set(reason, "vf_net.%s: %" PRId64 " is out of range (0-%u)", key, i, max);
        *ret = (uint32_t) i;
        return 0;
}

static int get_onoff(struct json_object *v, const char *key, int8_t *ret, char **reason) {
        if (!json_object_is_type(v, json_type_boolean))
                return reason_set(reason, "vf_net.%s: expected true or false", key);
        *ret = json_object_get_boolean(v) ? 1 : 0;
        return 0;
}

int siov_vf_net_from_json(struct json_object *o, struct siov_vf_net *ret, char **reason) {
        struct siov_vf_net n;
        bool has_qos = false;
        uint32_t u;
        int r;

        siov_vf_net_init(&n);
        if (!json_object_is_type(o, json_type_object))
                return reason_set(reason, "vf_net: expected an object");
        json_object_object_foreach(o, key, v) {
                if (streq(key, KEY_MAC)) {
                        _cleanup_free_ char *e = NULL;

                        if (!json_object_is_type(v, json_type_string) ||
                            siov_vf_mac_parse(json_object_get_string(v), n.mac) < 0) {
                                e = siov_escape_value(json_object_is_type(v, json_type_string) ?
                                                      json_object_get_string(v) : "?");
                                return e ? reason_set(reason, "vf_net.mac: not a unicast MAC address "
                                                      "(aa:bb:cc:dd:ee:ff): '%s'", e) : -ENOMEM;
                        }
                        n.has_mac = true;
                } else if (streq(key, KEY_VLAN)) {
                        r = get_u32(v, key, SIOV_VF_VLAN_MAX, &u, reason);
                        if (r < 0)
                                return r;
                        n.has_vlan = true;
                        n.vlan = (uint16_t) u;
                } else if (streq(key, KEY_QOS)) {
                        r = get_u32(v, key, SIOV_VF_QOS_MAX, &u, reason);
                        if (r < 0)
                                return r;
                        has_qos = true;
                        n.qos = (uint8_t) u;
                } else if (streq(key, KEY_SPOOFCHK)) {
                        r = get_onoff(v, key, &n.spoofchk, reason);
                        if (r < 0)
                                return r;
                } else if (streq(key, KEY_TRUST)) {
                        r = get_onoff(v, key, &n.trust, reason);
                        if (r < 0)
                                return r;
                } else if (streq(key, KEY_LINK_STATE)) {
                        if (!json_object_is_type(v, json_type_string) ||
                            (r = siov_vf_link_state_from_string(json_object_get_string(v))) < 0)
                                return reason_set(reason, "vf_net.link_state: expected \"auto\", \"enable\" "
                                                  "or \"disable\"");
                        n.link_state = (int8_t) r;
                } else {
                        _cleanup_free_ char *e = siov_escape_value(key);

                        /* Settings half understood would reach the NIC
                         * half applied: refused. */
                        return e ? reason_set(reason, "vf_net: unknown key '%s' (known: mac, vlan, qos, "
                                              "spoofchk, trust, link_state)", e) : -ENOMEM;
                }
        }
        if (has_qos && !n.has_vlan)
                return reason_set(reason, "vf_net.qos: a VLAN priority needs \"vlan\"");
        if (n.has_vlan && n.vlan == 0 && n.qos != 0)
                return reason_set(reason, "vf_net.qos: a VLAN priority needs a VLAN other than 0");
        *ret = n;
        return 0;
}

static int add_value(struct json_object *o, const char *key, struct json_object *v) {
        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Fixed key order, as the rest of a definition. */
int siov_vf_net_to_json(const struct siov_vf_net *n, struct json_object **ret) {
        struct json_object *o = json_object_new_object();
        char mac[SIOV_VF_MAC_STRING_MAX];
        int r = o ? 0 : -ENOMEM;

        if (r >= 0 && n->has_mac) {
                siov_vf_mac_format(n->mac, mac);
                r = add_value(o, KEY_MAC, json_object_new_string(mac));
        }
        if (r >= 0 && n->has_vlan) {
                r = add_value(o, KEY_VLAN, json_object_new_int(n->vlan));
                if (r >= 0 && n->qos)
                        r = add_value(o, KEY_QOS, json_object_new_int(n->qos));
        }
        if (r >= 0 && n->spoofchk >= 0)
                r = add_value(o, KEY_SPOOFCHK, json_object_new_boolean(n->spoofchk));
        if (r >= 0 && n->trust >= 0)
                r = add_value(o, KEY_TRUST, json_object_new_boolean(n->trust));
        if (r >= 0 && n->link_state != SIOV_VF_LINK_STATE_UNSET)
                r = add_value(o, KEY_LINK_STATE, json_object_new_string(siov_vf_link_state_to_string(n->link_state)));
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

_public_ int siov_definition_parse(const char *json, size_t len, struct siov_definition **ret, char **error_msg) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        _cleanup_json_ struct json_object *o = NULL, *extra = NULL;
        _cleanup_free_ char *reason = NULL;
        bool has_uuid = false;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!json || !ret)
                return -EINVAL;
        r = siov_definition_json_parse(json, len, &o, error_msg);
        if (r < 0)
                return r;

        d = definition_alloc();
        if (!d)
                return -ENOMEM;

        json_object_object_foreach(o, key, v) {
                const char *s = NULL;

                if (streq(key, KEY_UUID)) {
                        _cleanup_free_ char *e = NULL;

                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        if (siov_uuid_normalize(s, d->uuid) < 0) {
                                e = siov_escape_value(s);
                                r = e ? reason_set(&reason, KEY_UUID ": not a UUID: '%s'", e) : -ENOMEM;
                                goto fail;
                        }
                        has_uuid = true;
                } else if (streq(key, KEY_PARENT) || streq(key, KEY_TYPE)) {
                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        r = check_name(key, s, &reason);
                        if (r < 0)
                                goto fail;
                        if (streq(key, KEY_PARENT))
                                d->parent = strdup(s);
                        else
                                d->type = strdup(s);
                        if (!(streq(key, KEY_PARENT) ? d->parent : d->type))
                                return -ENOMEM;
                } else if (streq(key, KEY_AUTOSTART)) {
                        if (!json_object_is_type(v, json_type_boolean)) {
                                r = reason_set(&reason, KEY_AUTOSTART ": expected true or false, got %s",
                                               json_type_label(v));
                                goto fail;
                        }
                        d->autostart = json_object_get_boolean(v);
                } else if (streq(key, KEY_VM)) {
                        _cleanup_free_ char *e = NULL;

                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        if (!vm_name_is_valid(s)) {
                                e = siov_escape_value(s);
                                r = e ? reason_set(&reason, KEY_VM ": not a valid domain name (1-255 bytes, "
                                                   "no '/', no control characters): '%s'", e) : -ENOMEM;
                                goto fail;
                        }
                        d->vm = strdup(s);
                        if (!d->vm)
                                return -ENOMEM;
                } else if (streq(key, KEY_OWNER)) {
                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        r = check_name(key, s, &reason);
                        if (r < 0)
                                goto fail;
                        d->owner = strdup(s);
                        if (!d->owner)
                                return -ENOMEM;
                } else if (streq(key, KEY_ATTRS)) {
                        r = siov_definition_attrs_from_json(d, v, &reason);
                        if (r < 0)
                                goto fail;
                } else if (streq(key, KEY_VF_NET)) {
                        r = siov_vf_net_from_json(v, &d->vf_net, &reason);
                        if (r < 0)
                                goto fail;
                } else {
                        /* A newer siovd's key: kept, written back as is. */
                        r = siov_definition_extra_add(&extra, key, v);
                        if (r < 0)
                                return r;
                }
        }

        if (!has_uuid || !d->parent || !d->type)
                return siov_error(error_msg, -EINVAL, "missing key '%s'",
                                  !has_uuid ? KEY_UUID : !d->parent ? KEY_PARENT : KEY_TYPE);
        if (siov_vf_net_is_set(&d->vf_net) && !streq(d->type, SIOV_VF_TYPE_ID))
                return siov_error(error_msg, -EINVAL, KEY_VF_NET ": only a VF (type \"" SIOV_VF_TYPE_ID
                                  "\") has network settings, not %s", d->type);
        d->extra = TAKE_PTR(extra);
        *ret = TAKE_PTR(d);
        return 0;

fail:
        if (r == -EINVAL)
                return siov_error(error_msg, r, "%s", reason);
        return r;
}

/* ---- writing ------------------------------------------------------- */

static int add_string(struct json_object *o, const char *key, const char *value) {
        struct json_object *s = json_object_new_string(value);

        if (!s || json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

_public_ int siov_definition_to_json(const struct siov_definition *d, char **ret) {
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *attrs, *b;
        const char *s;
        int r;

        if (!d || !ret)
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        /* Fixed key order: two saves of one definition give the same bytes. */
        r = add_string(o, KEY_UUID, d->uuid);
        if (r >= 0)
                r = add_string(o, KEY_PARENT, d->parent);
        if (r >= 0)
                r = add_string(o, KEY_TYPE, d->type);
        if (r < 0)
                return r;
        b = json_object_new_boolean(d->autostart);
        if (!b || json_object_object_add(o, KEY_AUTOSTART, b) < 0) {
                json_object_put(b);
                return -ENOMEM;
        }
        if (d->vm) {
                r = add_string(o, KEY_VM, d->vm);
                if (r < 0)
                        return r;
        }
        if (d->owner) {
                r = add_string(o, KEY_OWNER, d->owner);
                if (r < 0)
                        return r;
        }
        attrs = json_object_new_array();
        if (!attrs || json_object_object_add(o, KEY_ATTRS, attrs) < 0) {
                json_object_put(attrs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < d->n_attrs; i++) {
                struct json_object *e = json_object_new_object();

                if (!e || json_object_array_add(attrs, e) < 0) {
                        json_object_put(e);
                        return -ENOMEM;
                }
                r = add_string(e, d->attrs[i].name, d->attrs[i].value);
                if (r < 0)
                        return r;
        }
        if (siov_vf_net_is_set(&d->vf_net)) {
                struct json_object *n = NULL;

                r = siov_vf_net_to_json(&d->vf_net, &n);
                if (r < 0)
                        return r;
                if (json_object_object_add(o, KEY_VF_NET, n) < 0) {
                        json_object_put(n);
                        return -ENOMEM;
                }
        }
        if (d->extra) {
                json_object_object_foreach(d->extra, key, v) {
                        /* An extra key never overrides a checked one, whoever
                         * put it there (an import, a newer file). */
                        if (siov_definition_key_is_reserved(key))
                                continue;
                        if (json_object_object_add(o, key, json_object_get(v)) < 0)
                                return -ENOMEM;
                }
        }

        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        if (asprintf(ret, "%s\n", s) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* The limits are the loader's: the text is read back by the very parser
 * that reads files at start-up, so what is written can always be loaded. */
_public_ int siov_definition_check(const struct siov_definition *d, char **ret_json, char **error_msg) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *back = NULL;
        _cleanup_free_ char *json = NULL, *reason = NULL;
        size_t len, longest = 0;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!d)
                return -EINVAL;
        r = siov_definition_to_json(d, &json);
        if (r < 0)
                return r;
        len = strlen(json);
        if (len > SIOV_DEFINITION_MAX_SIZE) {
                for (size_t i = 0; i < d->n_attrs; i++)
                        if (strlen(d->attrs[i].value) > longest)
                                longest = strlen(d->attrs[i].value);
                return siov_error(error_msg, -EFBIG,
                                  "the definition of %s would be %zu bytes, more than the %d bytes a definition "
                                  "file may have (%zu attributes, the longest value %zu bytes)",
                                  d->uuid, len, SIOV_DEFINITION_MAX_SIZE, d->n_attrs, longest);
        }
        r = siov_definition_parse(json, len, &back, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return siov_error(error_msg, -EINVAL, "the definition of %s could not be read back: %s",
                                  d->uuid, strempty(reason));
        if (!siov_definition_equal(d, back))
                return siov_error(error_msg, -EINVAL, "the definition of %s would not read back as it is",
                                  d->uuid);
        if (ret_json)
                *ret_json = TAKE_PTR(json);
        return 0;
}
