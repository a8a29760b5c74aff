/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-util.h"
#include "log.h"
#include "metrics.h"
#include "polkit.h"
#include "siov-names.h"
#include "sriov-net.h"

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

/* One vf_* option into n, checked: the error names the option and the
 * values it takes. */
static int read_vf_net_option(sd_bus_message *m, const char *key, const char *contents, struct siov_vf_net *n,
                              sd_bus_error *error) {
        bool is_bool = STR_IN_SET(key, "vf_spoofchk", "vf_trust");
        bool is_u32 = STR_IN_SET(key, "vf_vlan", "vf_qos");
        const char *want = is_bool ? "b" : is_u32 ? "u" : "s", *s = NULL;
        uint32_t u = 0;
        int b = 0, r;

        if (!streq(contents, want))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "option '%s' must be of type %s", key,
                                         want);
        if (is_bool)
                r = sd_bus_message_read(m, "v", "b", &b);
        else if (is_u32)
                r = sd_bus_message_read(m, "v", "u", &u);
        else
                r = sd_bus_message_read(m, "v", "s", &s);
        if (r < 0)
                return r;
        if (streq(key, "vf_mac")) {
                r = siov_vf_mac_parse(s, n->mac);
                if (r < 0)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 r == -EDOM ? "option 'vf_mac': %.32s is a multicast address; a VF's "
                                                              "MAC is unicast" :
                                                 "option 'vf_mac': '%.32s' is not a MAC address (aa:bb:cc:dd:ee:ff)", s);
                n->has_mac = true;
        } else if (streq(key, "vf_vlan")) {
                if (u > SIOV_VF_VLAN_MAX)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "option 'vf_vlan': %u is not a VLAN id (0-%d; 0 removes the VLAN)",
                                                 u, SIOV_VF_VLAN_MAX);
                n->has_vlan = true;
                n->vlan = (uint16_t) u;
        } else if (streq(key, "vf_qos")) {
                if (u > SIOV_VF_QOS_MAX)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "option 'vf_qos': %u is not an 802.1p priority (0-%d)", u,
                                                 SIOV_VF_QOS_MAX);
                n->qos = (uint8_t) u;
        } else if (streq(key, "vf_spoofchk"))
                n->spoofchk = b ? 1 : 0;
        else if (streq(key, "vf_trust"))
                n->trust = b ? 1 : 0;
        else {
                r = siov_vf_link_state_from_string(s);
                if (r < 0)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "option 'vf_link_state': '%.32s' is not auto, enable or disable", s);
                n->link_state = (int8_t) r;
        }
        return 0;
}

int bus_read_options(sd_bus_message *m, const char * const *allowed, LifecycleOptions *o, sd_bus_error *error) {
        int r;

        *o = (LifecycleOptions) {};
        siov_vf_net_init(&o->vf_net);
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
                } else if (streq(key, "owner")) {
                        WANT("s");
                        r = sd_bus_message_read(m, "v", "s", &o->owner);
                        if (r < 0)
                                goto fail;
                        if (!isempty(o->owner) && !siov_name_is_valid(o->owner)) {
                                r = sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                      "invalid owner '%.64s': 1-255 printable ASCII characters, no '/'",
                                                      o->owner);
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
                } else if (STR_IN_SET(key, "vf_mac", "vf_vlan", "vf_qos", "vf_spoofchk", "vf_trust", "vf_link_state")) {
                        r = read_vf_net_option(m, key, contents, &o->vf_net, error);
                        if (r < 0)
                                goto fail;
                        o->vf_net_set = true;
                }
#undef WANT
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto fail;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto fail;
        if (o->vf_net_set && !o->vf_net.has_vlan && o->vf_net.qos) {
                r = sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                      "option 'vf_qos' is the priority of a VLAN: give 'vf_vlan' too");
                goto fail;
        }
        if (o->vf_net_set && o->vf_net.has_vlan && o->vf_net.vlan == 0 && o->vf_net.qos) {
                r = sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                      "option 'vf_qos' needs a VLAN other than 0");
                goto fail;
        }
        return 0;
fail:
        free((void *) o->attrs);
        o->attrs = NULL;
        return r;
}

void bus_vf_net_details(const struct siov_vf_net *n, VfNetDetails *ret) {
        *ret = (VfNetDetails) {
                .spoofchk = vf_net_onoff(n->spoofchk),
                .trust = vf_net_onoff(n->trust),
                .link_state = strempty(siov_vf_link_state_to_string(n->link_state)),
        };
        if (n->has_mac)
                siov_vf_mac_format(n->mac, ret->mac);
        if (n->has_vlan) {
                snprintf(ret->vlan, sizeof(ret->vlan), "%u", n->vlan);
                snprintf(ret->qos, sizeof(ret->qos), "%u", n->qos);
        }
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
        /* Answered when the kernel is done: counted then (bus_call_answer). */
        if (r >= 0 && m->deferred_call == message) {
                m->deferred_call = NULL;
                return r;
        }
        /* What sd-bus would reply for a bare errno (the org.siov1 errno map). */
        if (r < 0 && !sd_bus_error_is_set(error))
                (void) sd_bus_error_set_errno(error, r);
        metrics_count_call(m, sd_bus_message_get_member(message), error);
        return r;
}

struct BusCall {
        Manager *manager;
        sd_bus_message *message;
        sd_event_source *timer;
        BusCallReply reply;
        char uuid[SIOV_UUID_STRING_MAX];
        bool answered;          /* the caller has its answer */
        bool finished;          /* the operation is done */
        bool started;           /* bus_call_started() returned: done() frees */
};

static BusCall *bus_call_free(BusCall *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->timer);
        sd_bus_message_unref(c->message);
        free(c);
        return NULL;
}

static void bus_call_answer(BusCall *c, int r, const sd_bus_error *error, char **paths) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int k;

        if (c->answered)
                return;
        c->answered = true;
        if (r >= 0 && c->reply != BUS_CALL_REPLY_NONE && (!paths || !paths[0]) && c->reply == BUS_CALL_REPLY_PATH)
                r = sd_bus_error_setf(&e, SIOV_ERROR_KERNEL_ERROR, "the device went away as it was made");
        if (r < 0)
                k = sd_bus_reply_method_error(c->message, sd_bus_error_is_set(&e) ? &e : error);
        else if (c->reply == BUS_CALL_REPLY_PATH)
                k = sd_bus_reply_method_return(c->message, "o", paths[0]);
        else if (c->reply == BUS_CALL_REPLY_PATHS) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                k = sd_bus_message_new_method_return(c->message, &reply);
                if (k >= 0)
                        k = sd_bus_message_open_container(reply, 'a', "o");
                for (char **p = paths; k >= 0 && p && *p; p++)
                        k = sd_bus_message_append_basic(reply, 'o', *p);
                if (k >= 0)
                        k = sd_bus_message_close_container(reply);
                if (k >= 0)
                        k = sd_bus_send(NULL, reply, NULL);
        } else
                k = sd_bus_reply_method_return(c->message, NULL);
        if (k < 0)
                log_warning_errno(k, "Cannot answer a call: %m");
        /* A call answered in its handler is counted by bus_method_counted(). */
        if (c->started)
                metrics_count_call(c->manager, sd_bus_message_get_member(c->message),
                                   r < 0 ? (sd_bus_error_is_set(&e) ? &e : error) : NULL);
}

static void bus_call_done(Manager *m, int r, const sd_bus_error *error, char **paths, void *userdata) {
        BusCall *c = userdata;

        bus_call_answer(c, r, error, paths);
        c->finished = true;
        if (c->started)
                bus_call_free(c);
}

/* A removal the kernel holds: answer now, with the device `removing` and
 * its holder named; the object changes when the kernel lets go. */
static int on_answer_due(sd_event_source *s, uint64_t usec, void *userdata) {
        BusCall *c = userdata;
        pid_t pid;

        if (c->answered)
                return 0;
        pid = lifecycle_removal_holder(c->manager, c->uuid);
        if (pid > 0)
                log_info("Removal of %s waits for process %d, which holds it: the caller is answered, "
                         "the device stays 'removing' until the kernel is done.", c->uuid, (int) pid);
        else
                log_info("Removal of %s is still under way: the caller is answered, "
                         "the device stays 'removing' until the kernel is done.", c->uuid);
        bus_call_answer(c, 0, NULL, NULL);
        return 0;
}

BusCall *bus_call_new(Manager *m, sd_bus_message *message, BusCallReply reply, const char *uuid) {
        BusCall *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->manager = m;
        c->message = sd_bus_message_ref(message);
        c->reply = reply;
        if (uuid)
                snprintf(c->uuid, sizeof(c->uuid), "%s", uuid);
        return c;
}

LifecycleDone bus_call_lifecycle_done(BusCall *c) {
        return (LifecycleDone) { bus_call_done, c };
}

int bus_call_started(BusCall *c, int r, bool bounded) {
        if (r < 0 || c->finished) {
                /* Refused (sd-bus answers the error) or answered already. */
                bus_call_free(c);
                return r < 0 ? r : 1;
        }
        c->started = true;
        c->manager->deferred_call = c->message;
        if (bounded && sd_event_add_time_relative(c->manager->event, &c->timer, CLOCK_MONOTONIC,
                                                  c->manager->answer_usec, 0, on_answer_due, c) < 0)
                log_warning("Cannot time the answer to a removal of %s: the caller waits for the kernel.", c->uuid);
        return 1;
}

int bus_reply_close_and_send(sd_bus_message *reply) {
        int r;

        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
