/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The network settings of an SR-IOV VF (what `ip link set PF vf N mac …
 * vlan … spoofchk … trust … state …` sets): the value, its checks and its
 * text forms (its JSON form is definition.c's "vf_net"). Applying them
 * is siovd's (rtnetlink on the PF, daemon/sriov-net.c): libsiov stays free
 * of netlink.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "siov-private.h"

static const char *const link_state_names[] = {
        [SIOV_VF_LINK_STATE_AUTO] = "auto",
        [SIOV_VF_LINK_STATE_ENABLE] = "enable",
        [SIOV_VF_LINK_STATE_DISABLE] = "disable",
};

_public_ void siov_vf_net_init(struct siov_vf_net *n) {
        if (n)
                *n = (struct siov_vf_net) {
                        .spoofchk = -1,
                        .trust = -1,
                        .link_state = SIOV_VF_LINK_STATE_UNSET,
                };
}

_public_ bool siov_vf_net_is_set(const struct siov_vf_net *n) {
        return n && (n->has_mac || n->has_vlan || n->spoofchk >= 0 || n->trust >= 0 ||
                     n->link_state != SIOV_VF_LINK_STATE_UNSET);
}

_public_ bool siov_vf_net_equal(const struct siov_vf_net *a, const struct siov_vf_net *b) {
        if (!a || !b)
                return a == b;
        return a->has_mac == b->has_mac && (!a->has_mac || memcmp(a->mac, b->mac, sizeof(a->mac)) == 0) &&
               a->has_vlan == b->has_vlan && (!a->has_vlan || (a->vlan == b->vlan && a->qos == b->qos)) &&
               a->spoofchk == b->spoofchk && a->trust == b->trust && a->link_state == b->link_state;
}

_public_ const char *siov_vf_link_state_to_string(int s) {
        return s >= 0 && (size_t) s < ELEMENTSOF(link_state_names) ? link_state_names[s] : NULL;
}

_public_ int siov_vf_link_state_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(link_state_names); i++)
                if (streq(s, link_state_names[i]))
                        return (int) i;
        return -EINVAL;
}

/* Exactly six colon-separated pairs of hex digits: no "a:b:c…" short
 * forms, no dashes, nothing after. */
_public_ int siov_vf_mac_parse(const char *s, uint8_t ret[static 6]) {
        uint8_t mac[6];

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (size_t i = 0; i < 6; i++) {
                int hi = siov_hexval(s[3 * i]), lo = siov_hexval(s[3 * i + 1]);

                if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
                        return -EINVAL;
                mac[i] = (uint8_t) (hi << 4 | lo);
        }
        /* A VF's own address is unicast; all zeros lets the VF pick one
         * (as `ip link set … vf N mac 00:00:00:00:00:00`). */
        if (mac[0] & 1)
                return -EDOM;
        memcpy(ret, mac, sizeof(mac));
        return 0;
}

_public_ void siov_vf_mac_format(const uint8_t mac[static 6], char buf[static SIOV_VF_MAC_STRING_MAX]) {
        snprintf(buf, SIOV_VF_MAC_STRING_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                 mac[4], mac[5]);
}

_public_ int siov_vf_net_check(const struct siov_vf_net *n, char **error_msg) {
        if (error_msg)
                *error_msg = NULL;
        if (!n)
                return -EINVAL;
        if (n->has_mac && (n->mac[0] & 1))
                return siov_error(error_msg, -EINVAL, "a VF's MAC address must be unicast");
        if (n->has_vlan && n->vlan > SIOV_VF_VLAN_MAX)
                return siov_error(error_msg, -EINVAL, "VLAN %u is out of range (0-%d, 0 removes the VLAN)",
                                  n->vlan, SIOV_VF_VLAN_MAX);
        if (n->has_vlan && n->qos > SIOV_VF_QOS_MAX)
                return siov_error(error_msg, -EINVAL, "VLAN priority (qos) %u is out of range (0-%d)", n->qos,
                                  SIOV_VF_QOS_MAX);
        if (!n->has_vlan && n->qos != 0)
                return siov_error(error_msg, -EINVAL, "a VLAN priority (qos) needs a VLAN");
        if (n->has_vlan && n->vlan == 0 && n->qos != 0)
                return siov_error(error_msg, -EINVAL, "a VLAN priority (qos) needs a VLAN other than 0");
        if (n->spoofchk < -1 || n->spoofchk > 1 || n->trust < -1 || n->trust > 1)
                return siov_error(error_msg, -EINVAL, "spoofchk and trust are on or off");
        if (n->link_state != SIOV_VF_LINK_STATE_UNSET && !siov_vf_link_state_to_string(n->link_state))
                return siov_error(error_msg, -EINVAL, "link state %d is not auto, enable or disable",
                                  n->link_state);
        return 0;
}
