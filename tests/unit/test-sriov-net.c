/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network VF settings: the value and its checks (libsiov), its place in a
 * definition ("vf_net" round trips, every malformed input refused), the
 * rtnetlink messages libnl builds for siovd (read back attribute by
 * attribute), replies parsed (constructed as a PF with VFs answers: no
 * link on this machine has VFs), apply/read through a fake transport, and
 * the real kernel in a private network namespace: RTM_GETLINK of a real
 * link parsed, and the kernel's refusal of VF settings on a link without
 * VFs reported with its errno.
 */


#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "daemon-fixture.h"
#include "device.h"
#include "libsiov.h"
#include "parent.h"
#include "sriov-net.h"
#include "sriov.h"

#define PF "0000:41:00.0"

/* ---- the value ------------------------------------------------------ */

static void test_mac_parse(void **state) {
        uint8_t mac[6];
        char buf[SIOV_VF_MAC_STRING_MAX];

        assert_int_equal(siov_vf_mac_parse("02:AB:cd:00:11:ff", mac), 0);
        siov_vf_mac_format(mac, buf);
        assert_string_equal(buf, "02:ab:cd:00:11:ff");
        assert_int_equal(siov_vf_mac_parse("00:00:00:00:00:00", mac), 0);
        assert_int_equal(siov_vf_mac_parse("01:00:5e:00:00:01", mac), -EDOM);   /* multicast */
        assert_int_equal(siov_vf_mac_parse("ff:ff:ff:ff:ff:ff", mac), -EDOM);
        assert_int_equal(siov_vf_mac_parse("02:ab:cd:00:11", mac), -EINVAL);
        assert_int_equal(siov_vf_mac_parse("02:ab:cd:00:11:ff:", mac), -EINVAL);
        assert_int_equal(siov_vf_mac_parse("02-ab-cd-00-11-ff", mac), -EINVAL);
        assert_int_equal(siov_vf_mac_parse("2:ab:cd:00:11:ff0", mac), -EINVAL);
        assert_int_equal(siov_vf_mac_parse("0g:ab:cd:00:11:ff", mac), -EINVAL);
        assert_int_equal(siov_vf_mac_parse("", mac), -EINVAL);
        assert_int_equal(siov_vf_mac_parse(NULL, mac), -EINVAL);
}

static void test_check(void **state) {
        struct siov_vf_net n;
        char *msg = NULL;

        siov_vf_net_init(&n);
        assert_false(siov_vf_net_is_set(&n));
        assert_int_equal(siov_vf_net_check(&n, &msg), 0);
        n.has_vlan = true;
        n.vlan = 4096;
        assert_int_equal(siov_vf_net_check(&n, &msg), -EINVAL);
        assert_non_null(strstr(msg, "VLAN 4096"));
        free(msg);
        n.vlan = 100;
        n.qos = 8;
        assert_int_equal(siov_vf_net_check(&n, &msg), -EINVAL);
        assert_non_null(strstr(msg, "qos"));
        free(msg);
        n.qos = 7;
        assert_int_equal(siov_vf_net_check(&n, NULL), 0);
        n.vlan = 0;
        assert_int_equal(siov_vf_net_check(&n, NULL), -EINVAL);          /* a priority needs a VLAN */
        n.has_vlan = false;
        assert_int_equal(siov_vf_net_check(&n, NULL), -EINVAL);
        n.qos = 0;
        n.link_state = 3;
        assert_int_equal(siov_vf_net_check(&n, NULL), -EINVAL);
        n.link_state = SIOV_VF_LINK_STATE_DISABLE;
        n.trust = 2;
        assert_int_equal(siov_vf_net_check(&n, NULL), -EINVAL);
        n.trust = 1;
        assert_int_equal(siov_vf_net_check(&n, NULL), 0);
        assert_true(siov_vf_net_is_set(&n));

        assert_int_equal(siov_vf_link_state_from_string("auto"), SIOV_VF_LINK_STATE_AUTO);
        assert_int_equal(siov_vf_link_state_from_string("enable"), SIOV_VF_LINK_STATE_ENABLE);
        assert_int_equal(siov_vf_link_state_from_string("disable"), SIOV_VF_LINK_STATE_DISABLE);
        assert_int_equal(siov_vf_link_state_from_string("up"), -EINVAL);
        assert_string_equal(siov_vf_link_state_to_string(SIOV_VF_LINK_STATE_ENABLE), "enable");
        assert_null(siov_vf_link_state_to_string(-1));
}

/* ---- in a definition ------------------------------------------------- */

#define VF_UUID "0c5b1e4e-8f43-5b8e-9a3b-3c0a0a6f2c11"

static void test_definition_round_trip(void **state) {
        struct siov_definition *d = NULL, *back = NULL, *mdev = NULL;
        struct siov_vf_net n, got;
        char *json = NULL, *msg = NULL;

        assert_int_equal(siov_definition_new(&d, VF_UUID, PF, "vf"), 0);
        assert_false(siov_definition_get_vf_net(d, &got));
        siov_vf_net_init(&n);
        assert_int_equal(siov_vf_mac_parse("02:00:00:00:00:07", n.mac), 0);
        n.has_mac = true;
        n.has_vlan = true;
        n.vlan = 100;
        n.qos = 3;
        n.spoofchk = 1;
        n.trust = 0;
        n.link_state = SIOV_VF_LINK_STATE_ENABLE;
        assert_int_equal(siov_definition_set_vf_net(d, &n), 0);
        assert_int_equal(siov_definition_to_json(d, &json), 0);
        assert_non_null(strstr(json, "\"vf_net\""));
        assert_non_null(strstr(json, "\"mac\": \"02:00:00:00:00:07\""));
        assert_non_null(strstr(json, "\"link_state\": \"enable\""));
        assert_int_equal(siov_definition_parse(json, strlen(json), &back, &msg), 0);
        assert_true(siov_definition_equal(d, back));
        assert_true(siov_definition_get_vf_net(back, &got));
        assert_true(siov_vf_net_equal(&n, &got));
        assert_int_equal(siov_definition_check(d, NULL, &msg), 0);

        /* Only a VF has them. */
        assert_int_equal(siov_definition_new(&mdev, "6f1c3a52-1d7e-4b0e-8d8f-0e1f2a3b4c5d", "siov0", "idxd-1dwq"), 0);
        assert_int_equal(siov_definition_set_vf_net(mdev, &n), -EINVAL);
        /* Invalid ones are refused; NULL clears. */
        n.vlan = 5000;
        assert_int_equal(siov_definition_set_vf_net(d, &n), -EINVAL);
        assert_int_equal(siov_definition_set_vf_net(d, NULL), 0);
        assert_false(siov_definition_get_vf_net(d, NULL));
        assert_false(siov_definition_equal(d, back));

        free(json);
        siov_definition_unref(d);
        siov_definition_unref(back);
        siov_definition_unref(mdev);
}

static void test_definition_refused(void **state) {
        static const struct {
                const char *vf_net, *reason;
        } cases[] = {
                { "[]", "expected an object" },
                { "{\"mac\": \"01:00:5e:00:00:01\"}", "not a unicast MAC" },
                { "{\"mac\": 7}", "not a unicast MAC" },
                { "{\"vlan\": 4096}", "out of range" },
                { "{\"vlan\": -1}", "out of range" },
                { "{\"vlan\": \"100\"}", "whole number" },
                { "{\"vlan\": 1.5}", "whole number" },
                { "{\"qos\": 3}", "needs \"vlan\"" },
                { "{\"vlan\": 0, \"qos\": 3}", "other than 0" },
                { "{\"vlan\": 10, \"qos\": 8}", "out of range" },
                { "{\"spoofchk\": \"on\"}", "true or false" },
                { "{\"trust\": 1}", "true or false" },
                { "{\"link_state\": \"up\"}", "\"auto\"" },
                { "{\"rate\": 100}", "unknown key 'rate'" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct siov_definition *d = NULL;
                char *json = NULL, *msg = NULL;

                assert_true(asprintf(&json, "{\"uuid\": \"" VF_UUID "\", \"parent\": \"" PF "\", \"type\": \"vf\", "
                                     "\"vf_net\": %s}", cases[i].vf_net) > 0);
                assert_int_equal(siov_definition_parse(json, strlen(json), &d, &msg), -EINVAL);
                assert_null(d);
                if (!strstr(msg, cases[i].reason))
                        fail_msg("vf_net %s: reason '%s' lacks '%s'", cases[i].vf_net, msg, cases[i].reason);
                free(msg);
                free(json);
        }
        /* On an mdev definition. */
        {
                const char *json = "{\"uuid\": \"" VF_UUID "\", \"parent\": \"siov0\", \"type\": \"idxd-1dwq\", "
                                   "\"vf_net\": {\"trust\": true}}";
                struct siov_definition *d = NULL;
                char *msg = NULL;

                assert_int_equal(siov_definition_parse(json, strlen(json), &d, &msg), -EINVAL);
                assert_non_null(strstr(msg, "only a VF"));
                free(msg);
        }
}

/* ---- the messages ---------------------------------------------------- */

static struct nlattr *vf_info(struct nl_msg *m) {
        struct nlmsghdr *h = nlmsg_hdr(m);
        struct nlattr *list, *info;

        list = nlmsg_find_attr(h, sizeof(struct ifinfomsg), IFLA_VFINFO_LIST);
        assert_non_null(list);
        info = nla_find(nla_data(list), nla_len(list), IFLA_VF_INFO);
        assert_non_null(info);
        return info;
}

static void test_build_set(void **state) {
        struct nl_msg *m = NULL;
        struct siov_vf_net n;
        struct nlattr *info, *a;
        struct ifinfomsg *ifi;

        siov_vf_net_init(&n);
        assert_int_equal(vf_net_build_set(7, 3, &n, &m), -EINVAL);        /* nothing to set */
        assert_int_equal(siov_vf_mac_parse("02:11:22:33:44:55", n.mac), 0);
        n.has_mac = true;
        n.has_vlan = true;
        n.vlan = 100;
        n.qos = 5;
        n.spoofchk = 0;
        n.trust = 1;
        n.link_state = SIOV_VF_LINK_STATE_DISABLE;
        assert_int_equal(vf_net_build_set(0, 3, &n, &m), -EINVAL);
        assert_int_equal(vf_net_build_set(7, 3, &n, &m), 0);

        assert_int_equal(nlmsg_hdr(m)->nlmsg_type, RTM_SETLINK);
        ifi = nlmsg_data(nlmsg_hdr(m));
        assert_int_equal(ifi->ifi_index, 7);
        info = vf_info(m);

        a = nla_find(nla_data(info), nla_len(info), IFLA_VF_MAC);
        assert_non_null(a);
        assert_int_equal(((struct ifla_vf_mac *) nla_data(a))->vf, 3);
        assert_memory_equal(((struct ifla_vf_mac *) nla_data(a))->mac, n.mac, 6);
        a = nla_find(nla_data(info), nla_len(info), IFLA_VF_VLAN);
        assert_non_null(a);
        assert_int_equal(((struct ifla_vf_vlan *) nla_data(a))->vf, 3);
        assert_int_equal(((struct ifla_vf_vlan *) nla_data(a))->vlan, 100);
        assert_int_equal(((struct ifla_vf_vlan *) nla_data(a))->qos, 5);
        a = nla_find(nla_data(info), nla_len(info), IFLA_VF_SPOOFCHK);
        assert_non_null(a);
        assert_int_equal(((struct ifla_vf_spoofchk *) nla_data(a))->vf, 3);
        assert_int_equal(((struct ifla_vf_spoofchk *) nla_data(a))->setting, 0);
        a = nla_find(nla_data(info), nla_len(info), IFLA_VF_TRUST);
        assert_non_null(a);
        assert_int_equal(((struct ifla_vf_trust *) nla_data(a))->setting, 1);
        a = nla_find(nla_data(info), nla_len(info), IFLA_VF_LINK_STATE);
        assert_non_null(a);
        assert_int_equal(((struct ifla_vf_link_state *) nla_data(a))->vf, 3);
        assert_int_equal(((struct ifla_vf_link_state *) nla_data(a))->link_state, IFLA_VF_LINK_STATE_DISABLE);
        nlmsg_free(m);

        /* Only what is set: a trust change sends no MAC, no VLAN. */
        siov_vf_net_init(&n);
        n.trust = 0;
        assert_int_equal(vf_net_build_set(7, 0, &n, &m), 0);
        info = vf_info(m);
        assert_null(nla_find(nla_data(info), nla_len(info), IFLA_VF_MAC));
        assert_null(nla_find(nla_data(info), nla_len(info), IFLA_VF_VLAN));
        assert_null(nla_find(nla_data(info), nla_len(info), IFLA_VF_SPOOFCHK));
        assert_null(nla_find(nla_data(info), nla_len(info), IFLA_VF_LINK_STATE));
        assert_non_null(nla_find(nla_data(info), nla_len(info), IFLA_VF_TRUST));
        nlmsg_free(m);
}

static void test_build_get(void **state) {
        struct nl_msg *m = NULL;
        struct nlattr *a;

        assert_int_equal(vf_net_build_get(-1, &m), -EINVAL);
        assert_int_equal(vf_net_build_get(9, &m), 0);
        assert_int_equal(nlmsg_hdr(m)->nlmsg_type, RTM_GETLINK);
        assert_int_equal(((struct ifinfomsg *) nlmsg_data(nlmsg_hdr(m)))->ifi_index, 9);
        a = nlmsg_find_attr(nlmsg_hdr(m), sizeof(struct ifinfomsg), IFLA_EXT_MASK);
        assert_non_null(a);
        assert_true(nla_get_u32(a) & RTEXT_FILTER_VF);
        nlmsg_free(m);
}

/* What the kernel's rtnl_fill_vfinfo() sends for each VF: every
 * attribute, whatever was set. */
static void put_vf(struct nl_msg *m, uint32_t vf, const char *mac, uint32_t vlan, uint32_t qos, uint32_t spoofchk,
                   uint32_t trust, uint32_t link_state) {
        struct nlattr *info = nla_nest_start(m, IFLA_VF_INFO);
        struct ifla_vf_mac vm = { .vf = vf };
        struct ifla_vf_vlan vv = { .vf = vf, .vlan = vlan, .qos = qos };
        struct ifla_vf_spoofchk vs = { .vf = vf, .setting = spoofchk };
        struct ifla_vf_trust vt = { .vf = vf, .setting = trust };
        struct ifla_vf_link_state vl = { .vf = vf, .link_state = link_state };
        struct ifla_vf_tx_rate vr = { .vf = vf };

        assert_non_null(info);
        assert_int_equal(siov_vf_mac_parse(mac, vm.mac), 0);
        assert_int_equal(nla_put(m, IFLA_VF_MAC, sizeof(vm), &vm), 0);
        assert_int_equal(nla_put(m, IFLA_VF_VLAN, sizeof(vv), &vv), 0);
        assert_int_equal(nla_put(m, IFLA_VF_TX_RATE, sizeof(vr), &vr), 0);
        assert_int_equal(nla_put(m, IFLA_VF_SPOOFCHK, sizeof(vs), &vs), 0);
        assert_int_equal(nla_put(m, IFLA_VF_LINK_STATE, sizeof(vl), &vl), 0);
        assert_int_equal(nla_put(m, IFLA_VF_TRUST, sizeof(vt), &vt), 0);
        nla_nest_end(m, info);
}

static struct nl_msg *pf_reply(uint32_t num_vfs) {
        struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 7 };
        struct nlattr *list;

        assert_non_null(m);
        assert_int_equal(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
        assert_int_equal(nla_put_string(m, IFLA_IFNAME, "enp65s0f0"), 0);
        if (num_vfs == 0)
                return m;
        assert_int_equal(nla_put_u32(m, IFLA_NUM_VF, num_vfs), 0);
        list = nla_nest_start(m, IFLA_VFINFO_LIST);
        /* Out of order on purpose: the result is sorted by index. */
        put_vf(m, 1, "02:00:00:00:00:01", 0, 0, 1, 0, IFLA_VF_LINK_STATE_AUTO);
        put_vf(m, 0, "02:00:00:00:00:00", 100, 3, 0, 1, IFLA_VF_LINK_STATE_DISABLE);
        nla_nest_end(m, list);
        return m;
}

static void test_parse_link(void **state) {
        struct nl_msg *m = pf_reply(2);
        VfNetState *l = NULL;
        size_t n = 0;
        char mac[SIOV_VF_MAC_STRING_MAX];

        assert_int_equal(vf_net_parse_link(m, &l, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(l[0].vf, 0);
        assert_true(l[0].has_mac);
        siov_vf_mac_format(l[0].mac, mac);
        assert_string_equal(mac, "02:00:00:00:00:00");
        assert_true(l[0].has_vlan);
        assert_int_equal(l[0].vlan, 100);
        assert_int_equal(l[0].qos, 3);
        assert_int_equal(l[0].spoofchk, 0);
        assert_int_equal(l[0].trust, 1);
        assert_int_equal(l[0].link_state, SIOV_VF_LINK_STATE_DISABLE);
        assert_int_equal(l[1].vf, 1);
        siov_vf_mac_format(l[1].mac, mac);
        assert_string_equal(mac, "02:00:00:00:00:01");
        assert_int_equal(l[1].vlan, 0);
        assert_int_equal(l[1].spoofchk, 1);
        assert_int_equal(l[1].link_state, SIOV_VF_LINK_STATE_AUTO);
        assert_ptr_equal(vf_net_find(l, n, 1), &l[1]);
        assert_null(vf_net_find(l, n, 2));
        free(l);
        nlmsg_free(m);

        /* Not a PF: no VF list, nothing. */
        m = pf_reply(0);
        assert_int_equal(vf_net_parse_link(m, &l, &n), 0);
        assert_int_equal(n, 0);
        assert_null(l);
        nlmsg_free(m);

        /* Not a link at all. */
        m = nlmsg_alloc_simple(RTM_NEWADDR, 0);
        assert_int_equal(vf_net_parse_link(m, &l, &n), -EBADMSG);
        nlmsg_free(m);
}

/* ---- apply and read through a fake transport -------------------------- */

typedef struct Fake {
        int error;              /* what the "kernel" answers */
        const char *ext_msg;
        int fail_sets;          /* this many RTM_SETLINK fail with set_error */
        int set_error;
        uint32_t num_vfs;       /* the reply of a get */
        int calls, sets;
        int last_type;
        int last_index;
        struct nl_msg *last_set; /* a copy of the latest RTM_SETLINK */
} Fake;

static int fake_call(void *userdata, struct nl_msg *request, struct nl_msg **ret_reply, char **ret_msg) {
        Fake *f = userdata;

        f->calls++;
        f->last_type = nlmsg_hdr(request)->nlmsg_type;
        f->last_index = ((struct ifinfomsg *) nlmsg_data(nlmsg_hdr(request)))->ifi_index;
        if (f->last_type == RTM_SETLINK) {
                f->sets++;
                if (f->last_set)
                        nlmsg_free(f->last_set);
                f->last_set = nlmsg_convert(nlmsg_hdr(request));
                if (f->fail_sets > 0) {
                        f->fail_sets--;
                        *ret_msg = strdup("VF trust is not supported");
                        return f->set_error;
                }
        }
        if (f->error < 0) {
                *ret_msg = f->ext_msg ? strdup(f->ext_msg) : NULL;
                return f->error;
        }
        if (ret_reply)
                *ret_reply = pf_reply(f->num_vfs);
        return 0;
}

static int fake_ifindex(void *userdata, const char *ifname) {
        return strcmp(ifname, "enp65s0f0") == 0 ? 7 : -ENODEV;
}

static void test_fake_transport(void **state) {
        Fake f = { .num_vfs = 2 };
        VfNetTransport t = { .call = fake_call, .ifindex = fake_ifindex, .userdata = &f };
        struct siov_vf_net n;
        VfNetState *l = NULL;
        size_t cnt = 0;
        char *msg = NULL;

        siov_vf_net_init(&n);
        n.spoofchk = 1;
        assert_int_equal(vf_net_apply(&t, PF, "enp65s0f0", 1, &n, &msg), 0);
        assert_null(msg);
        /* What VF 1 had, then the change. */
        assert_int_equal(f.calls, 2);
        assert_int_equal(f.sets, 1);
        assert_int_equal(f.last_type, RTM_SETLINK);
        assert_int_equal(f.last_index, 7);

        /* The driver refuses part of a request (trust after MAC and VLAN,
         * in the kernel's order): what VF 0 had is put back, and said. */
        {
                struct nlattr *info, *a;

                assert_int_equal(siov_vf_mac_parse("02:aa:00:00:00:01", n.mac), 0);
                n.has_mac = true;
                n.has_vlan = true;
                n.vlan = 200;
                n.trust = 1;
                f.sets = 0;
                f.fail_sets = 1;
                f.set_error = -EOPNOTSUPP;
                assert_int_equal(vf_net_apply(&t, PF, "enp65s0f0", 0, &n, &msg), -EOPNOTSUPP);
                assert_non_null(strstr(msg, "refused mac, vlan, spoofchk, trust of VF 0: Operation not supported "
                                            "(VF trust is not supported); what VF 0 had is put back"));
                free(msg);
                assert_int_equal(f.sets, 2);
                info = vf_info(f.last_set);
                a = nla_find(nla_data(info), nla_len(info), IFLA_VF_MAC);
                assert_non_null(a);
                assert_memory_equal(((struct ifla_vf_mac *) nla_data(a))->mac, "\x02\0\0\0\0\0", 6);
                a = nla_find(nla_data(info), nla_len(info), IFLA_VF_VLAN);
                assert_non_null(a);
                assert_int_equal(((struct ifla_vf_vlan *) nla_data(a))->vlan, 100);
                assert_int_equal(((struct ifla_vf_vlan *) nla_data(a))->qos, 3);
                a = nla_find(nla_data(info), nla_len(info), IFLA_VF_TRUST);
                assert_non_null(a);
                assert_int_equal(((struct ifla_vf_trust *) nla_data(a))->setting, 1);
                a = nla_find(nla_data(info), nla_len(info), IFLA_VF_SPOOFCHK);
                assert_non_null(a);
                assert_int_equal(((struct ifla_vf_spoofchk *) nla_data(a))->setting, 0);

                /* Putting back fails too: both said. */
                f.fail_sets = 2;
                assert_int_equal(vf_net_apply(&t, PF, "enp65s0f0", 0, &n, &msg), -EOPNOTSUPP);
                assert_non_null(strstr(msg, "putting back what VF 0 had failed too"));
                free(msg);
                nlmsg_free(f.last_set);
                f.last_set = NULL;
                siov_vf_net_init(&n);
                n.spoofchk = 1;
        }

        /* The kernel's refusal, named with the PF, the VF and its words. */
        f.error = -EINVAL;
        f.ext_msg = "VF index out of range";
        assert_int_equal(vf_net_apply(&t, PF, "enp65s0f0", 9, &n, &msg), -EINVAL);
        assert_non_null(strstr(msg, PF));
        assert_non_null(strstr(msg, "VF 9"));
        assert_non_null(strstr(msg, "spoofchk"));
        assert_non_null(strstr(msg, "VF index out of range"));
        free(msg);

        /* A netdev that is not here: the transport is not called. */
        f.calls = 0;
        assert_int_equal(vf_net_apply(&t, PF, "eth9", 0, &n, &msg), -ENODEV);
        assert_non_null(strstr(msg, "eth9"));
        assert_int_equal(f.calls, 0);
        free(msg);

        f.error = 0;
        assert_int_equal(vf_net_read(&t, PF, "enp65s0f0", &l, &cnt, &msg), 0);
        assert_int_equal(f.last_type, RTM_GETLINK);
        assert_int_equal(cnt, 2);
        assert_int_equal(l[0].vlan, 100);
        free(l);
        f.error = -EOPNOTSUPP;
        f.ext_msg = NULL;
        assert_int_equal(vf_net_read(&t, PF, "enp65s0f0", &l, &cnt, &msg), -EOPNOTSUPP);
        assert_non_null(strstr(msg, "enp65s0f0"));
        free(msg);
        if (f.last_set)
                nlmsg_free(f.last_set);
}

/* ---- the PF configuration's "vfs" ------------------------------------- */

static void test_pf_config_vfs(void **state) {
        struct siov_pf_config *c = NULL, *back = NULL;
        struct siov_vf_net n, got;
        char *json = NULL, *msg = NULL;

        assert_int_equal(siov_pf_config_new(&c, PF), 0);
        assert_false(siov_pf_config_get_vf_net(c, 0, &got));
        siov_vf_net_init(&n);
        n.has_vlan = true;
        n.vlan = 42;
        n.trust = 0;
        assert_int_equal(siov_pf_config_set_vf_net(c, 3, &n), 0);
        n.vlan = 5000;
        assert_int_equal(siov_pf_config_set_vf_net(c, 4, &n), -EINVAL);
        n.vlan = 42;
        assert_int_equal(siov_pf_config_to_json(c, &json), 0);
        assert_non_null(strstr(json, "\"vfs\""));
        assert_int_equal(siov_pf_config_parse(json, strlen(json), &back, &msg), 0);
        assert_true(siov_pf_config_equal(c, back));
        assert_true(siov_pf_config_get_vf_net(back, 3, &got));
        assert_true(siov_vf_net_equal(&n, &got));
        assert_false(siov_pf_config_get_vf_net(back, 0, &got));
        /* Removing the last one drops "vfs". */
        assert_int_equal(siov_pf_config_set_vf_net(back, 3, NULL), 0);
        free(json);
        assert_int_equal(siov_pf_config_to_json(back, &json), 0);
        assert_null(strstr(json, "\"vfs\""));
        free(json);
        siov_pf_config_unref(c);
        siov_pf_config_unref(back);

        static const struct {
                const char *vfs, *reason;
        } bad[] = {
                { "[]", "must be an object" },
                { "{\"x\": {}}", "not a VF index" },
                { "{\"01\": {}}", "not a VF index" },
                { "{\"0\": {\"vlan\": 4096}}", "\"vfs\".0: vf_net.vlan: 4096 is out of range" },
                { "{\"2\": {\"colour\": 1}}", "unknown key 'colour'" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(asprintf(&json, "{\"pf\": \"" PF "\", \"vfs\": %s}", bad[i].vfs) > 0);
                assert_int_equal(siov_pf_config_parse(json, strlen(json), &back, &msg), -EINVAL);
                if (!strstr(msg, bad[i].reason))
                        fail_msg("vfs %s: '%s' lacks '%s'", bad[i].vfs, msg, bad[i].reason);
                free(msg);
                free(json);
        }
}

/* ---- siovd's model: the PF's report behind the Device properties ----- */

static int fixture_teardown(void **state) {
        return fixture_free(state);
}

static void test_device_properties(void **state) {
        Fake f = { .num_vfs = 2 };
        VfNetTransport t = { .call = fake_call, .ifindex = fake_ifindex, .userdata = &f };
        Fixture *x = fixture_new();
        Device *d0 = NULL, *d1 = NULL, *dn = NULL;
        Parent *p, *nv;
        Device *d;

        *state = x;
        /* A NIC PF (netdev enp65s0f0, one VF with its own netdev) and an
         * NVMe PF: the PF's own netdev is told from its VFs'. */
        assert_int_equal(fake_add_pf(x->f, PF, 4, "ice"), 0);
        assert_int_equal(fake_add_netdev(x->f, PF, "enp65s0f0"), 0);
        assert_int_equal(fake_add_vf(x->f, PF, 0, "0000:41:01.0", "iavf", "enp65s0f0v0"), 0);
        assert_int_equal(fake_add_vf(x->f, PF, 1, "0000:41:01.1", NULL, NULL), 0);
        assert_int_equal(fake_add_pf(x->f, "0000:42:00.0", 2, "nvme"), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:42:00.0", 0, "0000:42:00.1", NULL, NULL), 0);
        fixture_start(x);
        x->m->vf_net_transport = &t;

        p = hashmap_get(x->m->parents, PF);
        nv = hashmap_get(x->m->parents, "0000:42:00.0");
        assert_non_null(p);
        assert_non_null(nv);
        assert_string_equal(parent_get_pf_netdev(p), "enp65s0f0");
        assert_null(parent_get_pf_netdev(nv));
        HASHMAP_FOREACH(d, x->m->devices, i) {
                if (d->kind != DEVICE_KIND_VF)
                        continue;
                if (streq(device_get_address(d), "0000:41:01.0"))
                        d0 = d;
                else if (streq(device_get_address(d), "0000:41:01.1"))
                        d1 = d;
                else
                        dn = d;
        }
        assert_non_null(d0);
        assert_non_null(d1);
        assert_non_null(dn);

        /* Nothing asked yet: no request went out at start-up. */
        assert_int_equal(f.calls, 0);
        assert_string_equal(device_get_vf_mac(d0).s, "02:00:00:00:00:00");
        assert_int_equal(f.calls, 1);
        assert_int_equal(f.last_type, RTM_GETLINK);
        assert_int_equal(device_get_vf_vlan(d0), 100);
        assert_int_equal(device_get_vf_qos(d0), 3);
        assert_string_equal(device_get_vf_link_state(d0), "disable");
        assert_string_equal(device_get_vf_spoofchk(d0), "off");
        assert_string_equal(device_get_vf_trust(d0), "on");
        assert_string_equal(device_get_vf_mac(d1).s, "02:00:00:00:00:01");
        assert_string_equal(device_get_vf_link_state(d1), "auto");
        /* One request for the whole PF. */
        assert_int_equal(f.calls, 1);
        /* The NVMe PF's VF: nothing, and no request. */
        assert_string_equal(device_get_vf_mac(dn).s, "");
        assert_int_equal(device_get_vf_vlan(dn), 0);
        assert_string_equal(device_get_vf_trust(dn), "");
        assert_int_equal(f.calls, 1);

        /* A link notification for the PF's netdev asks again; one for
         * another link does not. */
        sriov_vf_link_changed(x->m, 99);
        assert_int_equal(f.calls, 1);
        sriov_vf_link_changed(x->m, 7);
        assert_int_equal(f.calls, 2);

        /* A refresh asks again; a PF that fails to answer shows nothing. */
        f.error = -ENODEV;
        parent_vf_net_refresh(p);
        assert_int_equal(f.calls, 3);
        assert_string_equal(device_get_vf_mac(d0).s, "");
        assert_string_equal(device_get_vf_link_state(d0), "");
}

/* ---- the real kernel, in a private network namespace ----------------- */

static int write_file(const char *path, const char *s) {
        int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, s, strlen(s)) != (ssize_t) strlen(s))
                r = -errno;
        close(fd);
        return r;
}

/* A user namespace maps us to root in it, so that a new network namespace
 * can be made without privileges; as root the network namespace alone. */
static int enter_netns(void) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        char map[64];

        if (uid == 0)
                return unshare(CLONE_NEWNET) < 0 ? -errno : 0;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
                return -errno;
        (void) write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1", (unsigned) uid);
        if (write_file("/proc/self/uid_map", map) < 0)
                return -errno;
        snprintf(map, sizeof(map), "0 %u 1", (unsigned) gid);
        return write_file("/proc/self/gid_map", map);
}

static void count_link(int ifindex, void *userdata) {
        if (ifindex == 1)       /* lo */
                (*(int *) userdata)++;
}

static void test_kernel(void **state) {
        struct siov_vf_net n;
        VfNetState *l = NULL;
        size_t cnt = 7;
        char *msg = NULL;
        int r;

        r = enter_netns();
        if (r < 0)
                fail_msg("cannot make a private network namespace (unshare: %s): this test needs user "
                         "namespaces (sysctl kernel.unprivileged_userns_clone=1) or root", strerror(-r));

        /* lo, the one link of a new namespace: a real RTM_NEWLINK parsed,
         * no VF list in it (lo is no PF). */
        r = vf_net_read(&vf_net_kernel_transport, PF, "lo", &l, &cnt, &msg);
        if (r < 0)
                fail_msg("reading lo: %s", msg);
        assert_int_equal(cnt, 0);
        assert_null(l);

        /* The kernel's answer to VF settings on a link without VFs
         * (rtnetlink's do_setvfinfo: no ndo_set_vf_*): EOPNOTSUPP, named. */
        siov_vf_net_init(&n);
        n.trust = 1;
        r = vf_net_apply(&vf_net_kernel_transport, PF, "lo", 0, &n, &msg);
        assert_int_equal(r, -EOPNOTSUPP);
        assert_non_null(strstr(msg, "lo"));
        assert_non_null(strstr(msg, "VF 0"));
        free(msg);
        assert_int_equal(siov_vf_mac_parse("02:00:00:00:00:01", n.mac), 0);
        n.has_mac = true;
        n.has_vlan = true;
        n.vlan = 10;
        r = vf_net_apply(&vf_net_kernel_transport, PF, "lo", 0, &n, &msg);
        assert_int_equal(r, -EOPNOTSUPP);
        free(msg);

        /* Link notifications: bringing lo up is one RTM_NEWLINK for ifindex 1. */
        {
                VfNetMonitor *mon = NULL;
                struct ifreq ifr = {};
                struct pollfd pfd;
                int fd, seen = 0;

                assert_int_equal(vf_net_monitor_open(&mon), 0);
                fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                assert_true(fd >= 0);
                snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
                assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
                ifr.ifr_flags |= IFF_UP;
                assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
                close(fd);
                pfd = (struct pollfd) { .fd = vf_net_monitor_fd(mon), .events = POLLIN };
                assert_int_equal(poll(&pfd, 1, 5000), 1);
                assert_int_equal(vf_net_monitor_read(mon, count_link, &seen), 0);
                assert_true(seen >= 1);
                /* Nothing queued: the read returns at once. */
                assert_int_equal(vf_net_monitor_read(mon, count_link, &seen), 0);
                vf_net_monitor_free(mon);
        }

        /* A netdev that is not in this namespace. */
        r = vf_net_apply(&vf_net_kernel_transport, PF, "enp65s0f0", 0, &n, &msg);
        assert_int_equal(r, -ENODEV);
        assert_non_null(strstr(msg, "network namespace"));
        free(msg);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mac_parse),
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_definition_round_trip),
                cmocka_unit_test(test_definition_refused),
                cmocka_unit_test(test_build_set),
                cmocka_unit_test(test_build_get),
                cmocka_unit_test(test_parse_link),
                cmocka_unit_test(test_fake_transport),
                cmocka_unit_test(test_pf_config_vfs),
                cmocka_unit_test_teardown(test_device_properties, fixture_teardown),
                /* Last: it moves the process into a new namespace. */
                cmocka_unit_test(test_kernel),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
