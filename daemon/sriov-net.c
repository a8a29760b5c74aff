/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF network settings through rtnetlink, with libnl-route-3's rtnl_link_vf_*
 * API building and parsing the messages (never packed by hand): a set is
 * the change request of an rtnl_link carrying one rtnl_link_vf, sent as
 * RTM_SETLINK (as `ip link set PF vf N …`); a read is RTM_GETLINK of the PF
 * with IFLA_EXT_MASK = RTEXT_FILTER_VF, whose IFLA_VFINFO_LIST libnl
 * parses.
 */

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <netlink/socket.h>

#include "siov-macro.h"
#include "sriov-net.h"
#include "alloc.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* libnl reports its own codes; the kernel's errno is what an operator
 * can look up, so every path below keeps or makes one. */
static int nlerr_to_errno(int e) {
        switch (abs(e)) {
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_INVAL:
        case NLE_MISSING_ATTR:
                return -EINVAL;
        case NLE_MSGSIZE:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_PARSE_ERR:
        case NLE_MSGTYPE_NOSUPPORT:
                return -EBADMSG;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_PERM:
                return -EPERM;
        default:
                return -EIO;
        }
}

void nl_msg_freep(struct nl_msg **m) {
        if (*m)
                nlmsg_free(*m);
}

static void rtnl_link_putp(struct rtnl_link **l) {
        if (*l)
                rtnl_link_put(*l);
}

bool vf_net_supported(void) {
        return true;
}

int vf_net_build_set(int ifindex, uint32_t vf, const struct siov_vf_net *s, struct nl_msg **ret) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *orig = NULL, *changes = NULL;
        struct rtnl_link_vf *v = NULL;
        struct nl_msg *msg = NULL;
        int r;

        if (ifindex <= 0 || !s || !siov_vf_net_is_set(s) || siov_vf_net_check(s, NULL) < 0)
                return -EINVAL;
        orig = rtnl_link_alloc();
        changes = rtnl_link_alloc();
        v = rtnl_link_vf_alloc();
        if (!orig || !changes || !v) {
                rtnl_link_vf_put(v);
                return -ENOMEM;
        }
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_vf_set_index(v, vf);
        if (s->has_mac) {
                struct nl_addr *a = nl_addr_build(AF_LLC, s->mac, sizeof(s->mac));

                if (!a) {
                        rtnl_link_vf_put(v);
                        return -ENOMEM;
                }
                rtnl_link_vf_set_addr(v, a);    /* takes its own reference */
                nl_addr_put(a);
        }
        if (s->has_vlan) {
                nl_vf_vlans_t *vl = NULL;

                r = rtnl_link_vf_vlan_alloc(&vl, 1);
                if (r < 0) {
                        rtnl_link_vf_put(v);
                        return nlerr_to_errno(r);
                }
                /* One 802.1Q VLAN: libnl sends it as IFLA_VF_VLAN, which
                 * every driver with ndo_set_vf_vlan takes. */
                vl->vlans[0] = (nl_vf_vlan_info_t) { .vf_vlan = s->vlan, .vf_vlan_qos = s->qos,
                                                     .vf_vlan_proto = ETH_P_8021Q };
                rtnl_link_vf_set_vlans(v, vl);  /* takes its own reference */
                rtnl_link_vf_vlan_put(vl);
        }
        if (s->spoofchk >= 0)
                rtnl_link_vf_set_spoofchk(v, (uint32_t) s->spoofchk);
        if (s->trust >= 0)
                rtnl_link_vf_set_trust(v, (uint32_t) s->trust);
        if (s->link_state != SIOV_VF_LINK_STATE_UNSET)
                rtnl_link_vf_set_linkstate(v, (uint32_t) s->link_state);
        r = rtnl_link_vf_add(changes, v);
        rtnl_link_vf_put(v);
        if (r < 0)
                return nlerr_to_errno(r);
        r = rtnl_link_build_change_request(orig, changes, 0, &msg);
        if (r < 0)
                return nlerr_to_errno(r);
        /* libnl asks RTM_NEWLINK first and falls back; a VF setting is
         * RTM_SETLINK's, as iproute2 sends it. */
        nlmsg_hdr(msg)->nlmsg_type = RTM_SETLINK;
        *ret = msg;
        return 0;
}

int vf_net_build_get(int ifindex, struct nl_msg **ret) {
        struct nl_msg *msg = NULL;
        int r;

        if (ifindex <= 0)
                return -EINVAL;
        r = rtnl_link_build_get_request(ifindex, NULL, &msg);
        if (r < 0)
                return nlerr_to_errno(r);
        /* Without it the kernel leaves the VF list out. */
        if (!nlmsg_find_attr(nlmsg_hdr(msg), sizeof(struct ifinfomsg), IFLA_EXT_MASK)) {
                r = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF);
                if (r < 0) {
                        nlmsg_free(msg);
                        return nlerr_to_errno(r);
                }
        }
        *ret = msg;
        return 0;
}

static void parse_cb(struct nl_object *o, void *arg) {
        struct rtnl_link **link = arg;

        if (!*link) {
                nl_object_get(o);
                *link = (struct rtnl_link *) o;
        }
}

static int cmp_state(const void *a, const void *b) {
        const VfNetState *x = a, *y = b;

        return x->vf < y->vf ? -1 : x->vf > y->vf;
}

int vf_net_parse_link(struct nl_msg *reply, VfNetState **ret, size_t *ret_n) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        _cleanup_free_ VfNetState *l = NULL;
        uint32_t num = 0;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!reply || nlmsg_hdr(reply)->nlmsg_type != RTM_NEWLINK)
                return -EBADMSG;
        /* libnl finds the parser by protocol and type. */
        nlmsg_set_proto(reply, NETLINK_ROUTE);
        r = nl_msg_parse(reply, parse_cb, &link);
        if (r < 0)
                return nlerr_to_errno(r);
        if (!link)
                return -EBADMSG;
        /* No IFLA_NUM_VF (not a PF, or no VFs): an empty list. */
        if (rtnl_link_get_num_vf(link, &num) < 0 || num == 0)
                return 0;
        l = calloc(num, sizeof(*l));
        if (!l)
                return -ENOMEM;
        /* The list is in the order the driver reports; asked by index. */
        for (uint32_t i = 0; i < num && i < 65536; i++) {
                struct rtnl_link_vf *v = rtnl_link_vf_get(link, i);
                VfNetState *s;
                nl_vf_vlans_t *vl = NULL;
                struct nl_addr *a = NULL;
                uint32_t u;

                if (!v)
                        continue;
                s = &l[n++];
                *s = (VfNetState) { .vf = i, .spoofchk = -1, .trust = -1, .link_state = -1 };
                if (rtnl_link_vf_get_addr(v, &a) >= 0 && a && nl_addr_get_len(a) == sizeof(s->mac)) {
                        memcpy(s->mac, nl_addr_get_binary_addr(a), sizeof(s->mac));
                        s->has_mac = true;
                }
                /* A reference of ours (libnl counts it). */
                if (rtnl_link_vf_get_vlans(v, &vl) >= 0 && vl) {
                        if (vl->size > 0) {
                                s->has_vlan = true;
                                s->vlan = (uint16_t) vl->vlans[0].vf_vlan;
                                s->qos = (uint8_t) vl->vlans[0].vf_vlan_qos;
                        }
                        rtnl_link_vf_vlan_put(vl);
                }
                if (rtnl_link_vf_get_spoofchk(v, &u) >= 0)
                        s->spoofchk = u ? 1 : 0;
                if (rtnl_link_vf_get_trust(v, &u) >= 0)
                        s->trust = u ? 1 : 0;
                if (rtnl_link_vf_get_linkstate(v, &u) >= 0 && u <= SIOV_VF_LINK_STATE_DISABLE)
                        s->link_state = (int8_t) u;
                rtnl_link_vf_put(v);
        }
        qsort(l, n, sizeof(*l), cmp_state);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* ---- the kernel ---------------------------------------------------- */

typedef struct KernelAnswer {
        int error;              /* the kernel's -errno, 0 for an ACK */
        bool done;
        char *msg;              /* NLMSGERR_ATTR_MSG */
        struct nl_msg *reply;
} KernelAnswer;

static int on_valid(struct nl_msg *msg, void *arg) {
        KernelAnswer *a = arg;

        if (!a->reply && nlmsg_hdr(msg)->nlmsg_type == RTM_NEWLINK)
                a->reply = nlmsg_convert(nlmsg_hdr(msg));
        return NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg) {
        KernelAnswer *a = arg;

        a->done = true;
        return NL_STOP;
}

/* The error and, with NETLINK_EXT_ACK, the kernel's sentence ("VF index
 * out of range" and the like) in the TLVs after the echoed request. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg) {
        const struct nlmsghdr *h = (const struct nlmsghdr *) ((const char *) e - NLMSG_HDRLEN);
        KernelAnswer *a = arg;

        a->error = e->error;
        a->done = true;
        if (e->error < 0 && (h->nlmsg_flags & NLM_F_ACK_TLVS)) {
                size_t off = sizeof(*e) + ((h->nlmsg_flags & NLM_F_CAPPED) ? 0 : e->msg.nlmsg_len - NLMSG_HDRLEN);
                size_t len = h->nlmsg_len - NLMSG_HDRLEN;

                if (off < len) {
                        struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};

                        if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *) ((char *) e + off),
                                      (int) (len - off), NULL) >= 0 && tb[NLMSGERR_ATTR_MSG])
                                a->msg = strndup(nla_data(tb[NLMSGERR_ATTR_MSG]),
                                                 (size_t) nla_len(tb[NLMSGERR_ATTR_MSG]));
                }
        }
        return NL_STOP;
}

static void nl_socket_freep(struct nl_sock **s) {
        if (*s)
                nl_socket_free(*s);
}

static int kernel_call(void *userdata, struct nl_msg *request, struct nl_msg **ret_reply, char **ret_msg) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        KernelAnswer a = {};
        int one = 1, r;

        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return nlerr_to_errno(r);
        (void) setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &a);
        nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &a);
        nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, &a);
        r = nl_send_auto(sk, request);  /* adds NLM_F_REQUEST | NLM_F_ACK */
        if (r < 0)
                return nlerr_to_errno(r);
        while (!a.done) {
                r = nl_recvmsgs_default(sk);
                if (r < 0 && !a.done) {
                        if (a.reply)
                                nlmsg_free(a.reply);
                        free(a.msg);
                        return nlerr_to_errno(r);
                }
        }
        if (a.error < 0 || !ret_reply) {
                if (a.reply)
                        nlmsg_free(a.reply);
                a.reply = NULL;
        }
        if (ret_reply)
                *ret_reply = a.reply;
        if (ret_msg)
                *ret_msg = a.msg;
        else
                free(a.msg);
        return a.error;
}

static int kernel_ifindex(void *userdata, const char *ifname) {
        unsigned i = if_nametoindex(ifname);

        return i > 0 && i <= INT32_MAX ? (int) i : -ENODEV;
}

const VfNetTransport vf_net_kernel_transport = {
        .call = kernel_call,
        .ifindex = kernel_ifindex,
};

static const char *field_list(const struct siov_vf_net *s, char buf[static 96]) {
        buf[0] = '\0';
        if (s->has_mac)
                strcat(buf, ", mac");
        if (s->has_vlan)
                strcat(buf, ", vlan");
        if (s->spoofchk >= 0)
                strcat(buf, ", spoofchk");
        if (s->trust >= 0)
                strcat(buf, ", trust");
        if (s->link_state != SIOV_VF_LINK_STATE_UNSET)
                strcat(buf, ", link state");
        return buf[0] ? buf + 2 : buf;
}

/* VF vf as the PF reports it now; -ENOENT when not in its list. */
static int read_one(const VfNetTransport *t, int ifindex, uint32_t vf, VfNetState *ret) {
        _cleanup_(nl_msg_freep) struct nl_msg *req = NULL, *reply = NULL;
        _cleanup_free_ VfNetState *l = NULL;
        _cleanup_free_ char *kmsg = NULL;
        const VfNetState *st;
        size_t n = 0;
        int r;

        r = vf_net_build_get(ifindex, &req);
        if (r >= 0)
                r = t->call(t->userdata, req, &reply, &kmsg);
        if (r >= 0 && !reply)
                r = -EBADMSG;
        if (r >= 0)
                r = vf_net_parse_link(reply, &l, &n);
        if (r < 0)
                return r;
        st = vf_net_find(l, n, vf);
        if (!st)
                return -ENOENT;
        *ret = *st;
        return 0;
}

/* The fields of s, with the values before had. */
static bool restore_of(const struct siov_vf_net *s, const VfNetState *before, struct siov_vf_net *ret) {
        siov_vf_net_init(ret);
        if (s->has_mac && before->has_mac) {
                ret->has_mac = true;
                memcpy(ret->mac, before->mac, sizeof(ret->mac));
        }
        if (s->has_vlan) {
                /* libnl reports no VLAN for VLAN 0. */
                ret->has_vlan = true;
                ret->vlan = before->has_vlan ? before->vlan : 0;
                ret->qos = before->has_vlan ? before->qos : 0;
        }
        if (s->spoofchk >= 0)
                ret->spoofchk = before->spoofchk;
        if (s->trust >= 0)
                ret->trust = before->trust;
        if (s->link_state != SIOV_VF_LINK_STATE_UNSET)
                ret->link_state = before->link_state;
        return siov_vf_net_is_set(ret);
}

static int set_vf(const VfNetTransport *t, int ifindex, uint32_t vf, const struct siov_vf_net *s, char **kmsg) {
        _cleanup_(nl_msg_freep) struct nl_msg *req = NULL;
        int r;

        r = vf_net_build_set(ifindex, vf, s, &req);
        if (r < 0)
                return r;
        return t->call(t->userdata, req, NULL, kmsg);
}

int vf_net_apply(const VfNetTransport *t, const char *pf, const char *ifname, uint32_t vf,
                 const struct siov_vf_net *s, char **error_msg) {
        _cleanup_free_ char *kmsg = NULL, *kmsg2 = NULL, *undo = NULL;
        struct siov_vf_net restore;
        VfNetState before = {};
        bool have_before;
        char fields[96];
        int ifindex, r, k;

        *error_msg = NULL;
        ifindex = t->ifindex(t->userdata, ifname);
        if (ifindex < 0)
                return asprintf(error_msg, "netdev %s of PF %s is not in siovd's network namespace", ifname,
                                pf) < 0 ? -ENOMEM : ifindex;
        if (!siov_vf_net_is_set(s) || siov_vf_net_check(s, NULL) < 0)
                return -EINVAL;
        /* The kernel applies the settings of one request in order and
         * stops at the first the driver refuses: what the VF had is read
         * first, to put back what was taken before a refusal. */
        have_before = read_one(t, ifindex, vf, &before) >= 0;
        r = set_vf(t, ifindex, vf, s, &kmsg);
        if (r >= 0)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (have_before && restore_of(s, &before, &restore)) {
                k = set_vf(t, ifindex, vf, &restore, &kmsg2);
                if (k < 0 && asprintf(&undo, "; putting back what VF %u had failed too: %s%s%s%s", vf,
                                      strerror(-k), kmsg2 ? " (" : "", strempty(kmsg2), kmsg2 ? ")" : "") < 0)
                        return -ENOMEM;
                if (k >= 0 && asprintf(&undo, "; what VF %u had is put back", vf) < 0)
                        return -ENOMEM;
        }
        return asprintf(error_msg, "%s (netdev %s) refused %s of VF %u: %s%s%s%s%s", pf, ifname,
                        field_list(s, fields), vf, strerror(-r), kmsg ? " (" : "", strempty(kmsg), kmsg ? ")" : "",
                        strempty(undo)) < 0 ? -ENOMEM : r;
}

int vf_net_read(const VfNetTransport *t, const char *pf, const char *ifname, VfNetState **ret, size_t *ret_n,
                char **error_msg) {
        _cleanup_(nl_msg_freep) struct nl_msg *req = NULL, *reply = NULL;
        _cleanup_free_ char *kmsg = NULL;
        int ifindex, r;

        *error_msg = NULL;
        ifindex = t->ifindex(t->userdata, ifname);
        if (ifindex < 0)
                return asprintf(error_msg, "netdev %s of PF %s is not in siovd's network namespace", ifname,
                                pf) < 0 ? -ENOMEM : ifindex;
        r = vf_net_build_get(ifindex, &req);
        if (r < 0)
                return r;
        r = t->call(t->userdata, req, &reply, &kmsg);
        if (r >= 0 && !reply)
                r = -EBADMSG;
        if (r >= 0)
                r = vf_net_parse_link(reply, ret, ret_n);
        if (r < 0)
                return asprintf(error_msg, "reading the VFs of %s (netdev %s): %s%s%s%s", pf, ifname, strerror(-r),
                                kmsg ? " (" : "", strempty(kmsg), kmsg ? ")" : "") < 0 ? -ENOMEM : r;
        return 0;
}

/* ---- link notifications ---------------------------------------------- */

struct VfNetMonitor {
        struct nl_sock *sk;
        void (*cb)(int ifindex, void *userdata);
        void *userdata;
};

static int on_notification(struct nl_msg *msg, void *arg) {
        VfNetMonitor *mon = arg;
        struct nlmsghdr *h = nlmsg_hdr(msg);

        if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                mon->cb(((struct ifinfomsg *) nlmsg_data(h))->ifi_index, mon->userdata);
        return NL_OK;
}

int vf_net_monitor_open(VfNetMonitor **ret) {
        VfNetMonitor *mon = calloc(1, sizeof(*mon));
        int r;

        if (!mon)
                return -ENOMEM;
        mon->sk = nl_socket_alloc();
        if (!mon->sk) {
                free(mon);
                return -ENOMEM;
        }
        /* Notifications carry no sequence numbers of ours. */
        nl_socket_disable_seq_check(mon->sk);
        nl_socket_modify_cb(mon->sk, NL_CB_VALID, NL_CB_CUSTOM, on_notification, mon);
        r = nl_connect(mon->sk, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_membership(mon->sk, RTNLGRP_LINK);
        if (r >= 0)
                r = nl_socket_set_nonblocking(mon->sk);
        if (r < 0) {
                vf_net_monitor_free(mon);
                return nlerr_to_errno(r);
        }
        *ret = mon;
        return 0;
}

int vf_net_monitor_fd(const VfNetMonitor *mon) {
        return nl_socket_get_fd(mon->sk);
}

int vf_net_monitor_read(VfNetMonitor *mon, void (*cb)(int ifindex, void *userdata), void *userdata) {
        int r;

        mon->cb = cb;
        mon->userdata = userdata;
        /* Bounded: what is left wakes the event loop again. */
        for (unsigned i = 0; i < 256; i++) {
                r = nl_recvmsgs_default(mon->sk);
                if (r == -NLE_AGAIN)
                        return 0;
                if (r == -NLE_NOMEM && errno == ENOBUFS)
                        return -ENOBUFS;
                if (r < 0)
                        return nlerr_to_errno(r);
        }
        return 0;
}

VfNetMonitor *vf_net_monitor_free(VfNetMonitor *mon) {
        if (mon) {
                nl_socket_free(mon->sk);
                free(mon);
        }
        return NULL;
}
