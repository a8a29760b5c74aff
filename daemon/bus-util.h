/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "lifecycle.h"

/* Longest string siovd accepts from a caller where no tighter rule
 * applies: names go through libsiov's validators (≤ 255 bytes). */
#define SIOV_BUS_STRING_MAX 4096

/* Reads an a{sv} of options into o. Known keys: persistent (b), autostart
 * (b), vm (s), owner (s), force (b), attrs (a(ss)); `allowed` lists the keys this
 * method takes. Unknown or disallowed keys and wrong types are
 * InvalidArgument. Strings and attrs point into the message; free
 * o->attrs with free(). */
int bus_read_options(sd_bus_message *m, const char * const *allowed, LifecycleOptions *o, sd_bus_error *error);
/* Reads an a(ss) into a malloc'd array. */
int bus_read_attrs(sd_bus_message *m, LifecycleAttr **ret, size_t *n, sd_bus_error *error);

/* The polkit details of a VF's network settings, each "" when not given:
 * put VF_NET_DETAILS(d) into a details array. */
typedef struct VfNetDetails {
        char mac[SIOV_VF_MAC_STRING_MAX], vlan[16], qos[16];
        const char *spoofchk, *trust, *link_state;
} VfNetDetails;
void bus_vf_net_details(const struct siov_vf_net *n, VfNetDetails *ret);
#define VF_NET_DETAILS(d)                                                                               \
        "vf_mac", (d).mac, "vf_vlan", (d).vlan, "vf_qos", (d).qos, "vf_spoofchk", (d).spoofchk,        \
        "vf_trust", (d).trust, "vf_link_state", (d).link_state

/* Asks polkit for each action in order (NULL-terminated; NULL entries in
 * the middle are skipped with `optional`). Returns 1 when all are granted,
 * 0 when the handler must return 1 and wait to be called again, <0 with
 * error set (NotAuthorized naming the action). details: key, value, …,
 * NULL for polkit rules (e.g. "parent", "siov0"), or NULL. No side effects may happen
 * before this returns 1: the handler runs again for each action asked. */
int bus_verify_actions(sd_bus_message *message, Manager *m, const char * const *actions, size_t n,
                       const char **details, sd_bus_error *error);

/* Runs a changing method's handler and counts its outcome in the metrics
 * (metrics.c) by member and error name, once per call: a call waiting for
 * polkit is counted when it comes back. Every method that changes
 * something goes through it: define a counted handler with
 * BUS_METHOD_COUNTED and put that in the vtable. */
int bus_method_counted(sd_bus_message *message, Manager *m, sd_bus_message_handler_t handler, void *userdata,
                       sd_bus_error *error);
#define BUS_METHOD_COUNTED(handler, manager_of)                                                    \
        static int handler##_counted(sd_bus_message *message, void *userdata, sd_bus_error *error) { \
                return bus_method_counted(message, manager_of(userdata), handler, userdata, error);  \
        }

/* A method call answered when its lifecycle operation is done:
 *     c = bus_call_new(m, message, BUS_CALL_REPLY_NONE, d->uuid);
 *     r = lifecycle_destroy_checked(d, force, bus_call_lifecycle_done(c), error);
 *     return bus_call_started(c, r, true);
 * bounded: a removal the kernel holds is answered after m->answer_usec
 * anyway (the device is then `removing`, with its holder). */
typedef enum BusCallReply {
        BUS_CALL_REPLY_NONE,    /* () */
        BUS_CALL_REPLY_PATH,    /* (o) the device */
        BUS_CALL_REPLY_PATHS,   /* (ao) the devices */
} BusCallReply;
typedef struct BusCall BusCall;
BusCall *bus_call_new(Manager *m, sd_bus_message *message, BusCallReply reply, const char *uuid);
LifecycleDone bus_call_lifecycle_done(BusCall *c);
/* Takes c; returns what the method handler returns. */
int bus_call_started(BusCall *c, int r, bool bounded);
/* Closes the reply's outer container and sends it: the end of every
 * method that builds its reply. */
int bus_reply_close_and_send(sd_bus_message *reply);
