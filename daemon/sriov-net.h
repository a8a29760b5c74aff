/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libsiov.h"

/*
 * Network settings of SR-IOV VFs, set and read on their PF through
 * rtnetlink (libnl-route-3): RTM_SETLINK with IFLA_VFINFO_LIST to set,
 * RTM_GETLINK with IFLA_EXT_MASK = RTEXT_FILTER_VF to read. The socket is
 * behind VfNetTransport so that tests can answer in the kernel's place.
 * Every function returns a negative errno and, where it takes one, sets
 * *error_msg to a sentence naming the PF and the VF.
 */

struct nl_msg;

/* One VF as its PF reports it. A field the driver does not report is
 * -1 (spoofchk, trust, link_state) or false (has_mac, has_vlan). */
typedef struct VfNetState {
        uint32_t vf;
        bool has_mac;
        uint8_t mac[6];
        bool has_vlan;
        uint16_t vlan;
        uint8_t qos;
        int8_t spoofchk;
        int8_t trust;
        int8_t link_state;
} VfNetState;

/* How a request reaches the kernel. call() sends `request` and returns the
 * kernel's answer: 0 or its -errno (with its extended ack text in *ret_msg
 * when it gave one), and for a get the RTM_NEWLINK reply in *ret_reply.
 * ifindex() resolves a netdev name (-ENODEV). */
typedef struct VfNetTransport {
        int (*call)(void *userdata, struct nl_msg *request, struct nl_msg **ret_reply, char **ret_msg);
        int (*ifindex)(void *userdata, const char *ifname);
        void *userdata;
} VfNetTransport;

/* The kernel, through a NETLINK_ROUTE socket opened per call (the calls
 * are rare: a create, a read of a PF's VFs). NULL without libnl. */
extern const VfNetTransport vf_net_kernel_transport;
/* Whether this siovd can set VF network settings at all (built with libnl). */
bool vf_net_supported(void);

/* The RTM_SETLINK request for VF `vf` of ifindex: the set fields of s only.
 * -EINVAL when nothing is set or s is invalid. */
int vf_net_build_set(int ifindex, uint32_t vf, const struct siov_vf_net *s, struct nl_msg **ret);
/* The RTM_GETLINK request of ifindex, asking for its VF list. */
int vf_net_build_get(int ifindex, struct nl_msg **ret);
/* The VFs of an RTM_NEWLINK message (a PF without VFs: none), sorted by
 * index. -EBADMSG for a message that is not a link. */
int vf_net_parse_link(struct nl_msg *reply, VfNetState **ret, size_t *ret_n);
void nl_msg_freep(struct nl_msg **m);

/* Sets s on VF vf of the PF whose netdev is ifname. */
int vf_net_apply(const VfNetTransport *t, const char *pf, const char *ifname, uint32_t vf,
                 const struct siov_vf_net *s, char **error_msg);
/* The PF's VFs as the driver reports them now. */
int vf_net_read(const VfNetTransport *t, const char *pf, const char *ifname, VfNetState **ret, size_t *ret_n,
                char **error_msg);
/* Link notifications (RTNLGRP_LINK): the kernel says when a link changed,
 * VF settings made with `ip link` included. A non-blocking socket for the
 * event loop; read() calls cb with the ifindex of each RTM_NEWLINK and
 * returns -ENOBUFS when the kernel dropped some (then ask everything). */
typedef struct VfNetMonitor VfNetMonitor;
int vf_net_monitor_open(VfNetMonitor **ret);            /* -EOPNOTSUPP without libnl */
int vf_net_monitor_fd(const VfNetMonitor *mon);
int vf_net_monitor_read(VfNetMonitor *mon, void (*cb)(int ifindex, void *userdata), void *userdata);
VfNetMonitor *vf_net_monitor_free(VfNetMonitor *mon);

/* A tri-state setting (-1 unset/unknown, 0, 1) as shown: "", "off", "on". */
static inline const char *vf_net_onoff(int v) {
        return v < 0 ? "" : v ? "on" : "off";
}

/* The state of VF vf in a read list, or NULL. */
static inline const VfNetState *vf_net_find(const VfNetState *l, size_t n, uint32_t vf) {
        for (size_t i = 0; i < n; i++)
                if (l[i].vf == vf)
                        return &l[i];
        return NULL;
}
