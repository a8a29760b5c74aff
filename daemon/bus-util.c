/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "metrics.h"
#include "polkit.h"
#include "siov-names.h"

int bus_read_attrs(sd_bus_message *m, LifecycleAttr **ret, size_t *n, sd_bus_error *error) {
        _cleanup_free_ LifecycleAttr *a = NULL;
        size_t k = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (;;) {
                const char *name, *value;
                LifecycleAttr *b;

                r = sd_bus_message_read(m, "(ss)", &name, &value);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (k >= SIOV_ATTRS_MAX)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "too many attributes (at most %d)", SIOV_ATTRS_MAX);
                if (!siov_name_is_valid(name) || strlen(value) > SIOV_ATTR_VALUE_MAX)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "invalid attribute '%.64s': a sysfs file name and a value of at most %d bytes",
                                                 name, SIOV_ATTR_VALUE_MAX);
                b = reallocarray(a, k + 1, sizeof(LifecycleAttr));
                if (!b)
                        return -ENOMEM;
                a = b;
                a[k++] = (LifecycleAttr) { name, value };
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        *n = k;
        return 0;
}

int bus_read_options(sd_bus_message *m, const char * const *allowed, LifecycleOptions *o, sd_bus_error *error) {
        int r;

        *o = (LifecycleOptions) {};
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *contents;
                int b;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        goto fail;
                if (!strv_contains_const(allowed, key)) {
                        r = sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "unknown option '%.64s'", key);
                        goto fail;
                }
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        goto fail;
#define WANT(sig)                                                                                       \
                if (!streq(contents, sig)) {                                                            \
                        r = sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,                       \
                                              "option '%s' must be of type %s", key, sig);              \
                        goto fail;                                                                      \
                }
                if (STR_IN_SET(key, "persistent", "autostart", "force")) {
                        WANT("b");
                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r < 0)
                                goto fail;
                        if (streq(key, "persistent"))
                                o->persistent = b;
                        else if (streq(key, "autostart")) {
                                o->autostart = b;
                                o->autostart_set = true;
                        }
                        else
                                o->force = b;
                } else if (streq(key, "vm")) {
                        WANT("s");
                        r = sd_bus_message_read(m, "v", "s", &o->vm);
                        if (r < 0)
                                goto fail;
                        if (strlen(o->vm) > 255) {
                                r = sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "VM name too long");
                                goto fail;
                        }
                } else if (streq(key, "attrs")) {
                        WANT("a(ss)");
                        free((void *) o->attrs);
                        o->attrs = NULL;
                        r = sd_bus_message_enter_container(m, 'v', "a(ss)");
                        if (r < 0)
                                goto fail;
                        r = bus_read_attrs(m, (LifecycleAttr **) &o->attrs, &o->n_attrs, error);
                        if (r < 0)
                                goto fail;
                        o->attrs_set = true;
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                goto fail;
                }
#undef WANT
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto fail;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto fail;
        return 0;
fail:
        free((void *) o->attrs);
        o->attrs = NULL;
        return r;
}

int bus_verify_actions(sd_bus_message *message, Manager *m, const char * const *actions, size_t n,
                       const char **details, sd_bus_error *error) {
        for (size_t i = 0; i < n; i++) {
                int r;

                if (!actions[i])
                        continue;
                r = siov_polkit_verify(message, actions[i], details, &m->polkit_registry, error);
                if (r <= 0)
                        return r;
        }
        return 1;
}

int bus_method_counted(sd_bus_message *message, Manager *m, sd_bus_message_handler_t handler, void *userdata,
                       sd_bus_error *error) {
        int r = handler(message, userdata, error);

        if (r >= 0 && siov_polkit_call_waiting(m->polkit_registry, message))
                return r;
        /* What sd-bus would reply for a bare errno (the org.siov1 errno map). */
        if (r < 0 && !sd_bus_error_is_set(error))
                (void) sd_bus_error_set_errno(error, r);
        metrics_count_call(m, sd_bus_message_get_member(message), error);
        return r;
}

int bus_reply_close_and_send(sd_bus_message *reply) {
        int r;

        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
