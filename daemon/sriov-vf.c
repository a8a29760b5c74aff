/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-VF network settings kept with the PF (Parent.SetVfNetwork, the "vfs"
 * of /etc/siov/parents/<pf>.json), for VFs whatever uses them; a VF device
 * siovd hands out carries its own in its definition (lifecycle.c). The
 * rtnetlink request runs on the parent's worker: a NIC driver may talk to
 * its firmware for each setting.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "siov-errors.h"
#include "siov-names.h"
#include "sriov-net.h"
#include "sriov.h"
#include "sysfs-queue.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct siov_pf_config *, siov_pf_config_unref);

typedef struct VfNetJob {
        uint32_t vf;
        struct siov_vf_net settings;
        const VfNetTransport *transport;
        bool persistent;
        sd_bus_message *call;   /* answered when done; NULL at provisioning */
} VfNetJob;

static int vf_net_job_work(struct siov_ctx *ctx, SysfsJob *j) {
        _cleanup_free_ char *ifname = NULL;
        VfNetJob *v = j->userdata;
        int r;

        r = siov_pf_get_netdev(ctx, j->parent, &ifname);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return asprintf(&j->msg, "PF %s has no netdev now", j->parent) < 0 ? -ENOMEM : -ENODEV;
        return vf_net_apply(v->transport, j->parent, ifname, v->vf, &v->settings, &j->msg);
}

/* Writes the PF's configuration with VF vf's settings replaced. */
static int config_save_vf(Manager *m, const char *pf, uint32_t vf, const struct siov_vf_net *s, char **msg) {
        _cleanup_(siov_pf_config_unrefp) struct siov_pf_config *c = NULL;
        struct siov_pf_config *old = sriov_config_get(m, pf);
        int r;

        if (sriov_config_error(m, pf))
                return asprintf(msg, "the configuration of PF %s cannot be read, so siovd keeps it and does not "
                                "replace it: %s", pf, sriov_config_error(m, pf)) < 0 ? -ENOMEM : -EEXIST;
        r = old ? siov_pf_config_copy(old, &c) : siov_pf_config_new(&c, pf);
        if (r >= 0)
                r = siov_pf_config_set_vf_net(c, vf, s);
        if (r < 0)
                return r;
        if (siov_pf_config_equal(c, old))
                return 0;
        r = siov_pf_config_save(m->parents_dir, c, msg);
        if (r < 0)
                return r;
        sriov_config_replace(m, pf, TAKE_PTR(c));
        return 0;
}

static void vf_net_job_done(Manager *m, SysfsJob *j) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        VfNetJob *v = j->userdata;
        int r = j->r;

        parent_vf_net_refresh(hashmap_get(m->parents, j->parent));
        if (r < 0) {
                if (!v->call)
                        log_error("Cannot set VF %u of PF %s from its configuration: %s", v->vf, j->parent,
                                  j->msg ?: strerror(-r));
                (void) sd_bus_error_setf(&error, SIOV_ERROR_KERNEL_ERROR, "%s", j->msg ?: strerror(-r));
        } else if (v->persistent) {
                _cleanup_free_ char *msg = NULL;

                r = config_save_vf(m, j->parent, v->vf, &v->settings, &msg);
                if (r < 0)
                        (void) sd_bus_error_setf(&error, r == -EEXIST ? SIOV_ERROR_ALREADY_EXISTS : SD_BUS_ERROR_IO_ERROR,
                                                 "VF %u of %s is set, but its configuration was not saved: %s",
                                                 v->vf, j->parent, msg ?: strerror(-r));
        }
        if (r >= 0)
                log_info("Set the network settings of VF %u of PF %s%s.", v->vf, j->parent,
                         v->persistent ? " (persistent)" : v->call ? "" : " from its configuration");
        if (v->call) {
                if (r < 0)
                        (void) sd_bus_reply_method_error(v->call, &error);
                else
                        (void) sd_bus_reply_method_return(v->call, NULL);
                sd_bus_message_unref(v->call);
        }
        free(v);
}

static int vf_net_submit(Manager *m, const char *pf, uint32_t vf, const struct siov_vf_net *s, bool persistent,
                         sd_bus_message *call) {
        SysfsJob *j = calloc(1, sizeof(*j));
        VfNetJob *v = calloc(1, sizeof(*v));
        int r;

        if (!j || !v) {
                free(j);
                free(v);
                return -ENOMEM;
        }
        *v = (VfNetJob) { .vf = vf, .settings = *s, .transport = m->vf_net_transport, .persistent = persistent,
                          .call = sd_bus_message_ref(call) };
        snprintf(j->parent, sizeof(j->parent), "%s", pf);
        j->work = vf_net_job_work;
        j->done = vf_net_job_done;
        j->userdata = v;
        r = sysfs_queue_submit(m, j);
        if (r < 0) {
                sd_bus_message_unref(v->call);
                free(v);
                free(j);
        }
        return r;
}

int sriov_vf_set_network(Parent *p, sd_bus_message *message, uint32_t vf, const struct siov_vf_net *s,
                         bool persistent, sd_bus_error *error) {
        _cleanup_free_ char *why = NULL;
        bool present = false;

        if (!(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "parent %s is not an SR-IOV physical function", p->name);
        if (!vf_net_supported())
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "this siovd was built without libnl: it cannot set VF network settings");
        if (!siov_vf_net_is_set(s))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "no setting given (vf_mac, vf_vlan, vf_qos, vf_spoofchk, vf_trust, "
                                         "vf_link_state)");
        if (siov_vf_net_check(s, &why) < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "%s", strempty(why));
        if (!parent_get_pf_netdev(p))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "PF %s has no netdev (driver %s): network settings are for the VFs of a "
                                         "network PF", p->name, strempty(siov_parent_get_driver(p->snap)));
        for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap) && !present; i++)
                present = siov_vf_get_index(siov_parent_get_vf(p->snap, i)) == vf;
        if (!present)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "PF %s has no VF %u (it has %u VFs; siovctl sriov %s --numvfs N makes them)",
                                         p->name, vf, siov_parent_get_num_vfs(p->snap), p->name);
        if (persistent && sriov_config_error(p->manager, p->name))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS,
                                         "the configuration of PF %s cannot be read, so siovd keeps it and does "
                                         "not replace it: %s; fix or remove the file, then Rescan",
                                         p->name, sriov_config_error(p->manager, p->name));
        return vf_net_submit(p->manager, p->name, vf, s, persistent, message);
}

void sriov_vf_provision(Manager *m, const char *pf) {
        struct siov_pf_config *c = sriov_config_get(m, pf);
        Parent *p = hashmap_get(m->parents, pf);
        struct siov_vf_net s;

        if (!c || !p || !(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return;
        /* Every configured VF up to the PF's limit; the kernel judges a VF
         * that is not there (yet). In the parent's queue, so after a VF
         * count written there and before the autostart devices' binds. */
        for (uint32_t vf = 0; vf < siov_parent_get_total_vfs(p->snap); vf++) {
                int r;

                if (!siov_pf_config_get_vf_net(c, vf, &s))
                        continue;
                if (!parent_get_pf_netdev(p) || !vf_net_supported()) {
                        log_error("PF %s has per-VF network settings in its configuration but %s; not applied.",
                                  pf, vf_net_supported() ? "no netdev" : "this siovd was built without libnl");
                        return;
                }
                r = vf_net_submit(m, pf, vf, &s, false, NULL);
                if (r < 0)
                        log_error("Cannot queue the settings of VF %u of PF %s: %s", vf, pf, strerror(-r));
        }
}

/* ---- link notifications ---------------------------------------------- */

void sriov_vf_link_changed(Manager *m, int ifindex) {
        Parent *p;

        /* Only PFs whose VFs someone looked at: the others are read when
         * asked. A few PFs per host: the name lookup is cheap. */
        HASHMAP_FOREACH(p, m->parents, i) {
                const char *ifname;

                if (!p->vf_net_valid || !(ifname = parent_get_pf_netdev(p)))
                        continue;
                if (m->vf_net_transport->ifindex(m->vf_net_transport->userdata, ifname) == ifindex)
                        parent_vf_net_refresh(p);
        }
}

static void link_changed_cb(int ifindex, void *userdata) {
        sriov_vf_link_changed(userdata, ifindex);
}

static int on_link_notification(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        Parent *p;
        int r;

        r = vf_net_monitor_read(m->vf_net_monitor, link_changed_cb, m);
        if (r == -ENOBUFS) {
                /* Some were lost: every PF that was asked is asked again. */
                log_debug("Link notifications were lost; re-reading the VF network state of every PF.");
                HASHMAP_FOREACH(p, m->parents, i)
                        parent_vf_net_refresh(p);
        } else if (r < 0)
                log_debug("Reading link notifications: %s", strerror(-r));
        return 0;
}

void sriov_vf_monitor_start(Manager *m) {
        int r;

        r = vf_net_monitor_open(&m->vf_net_monitor);
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->vf_net_source, vf_net_monitor_fd(m->vf_net_monitor), EPOLLIN,
                                    on_link_notification, m);
        if (r < 0) {
                if (r != -EOPNOTSUPP)
                        log_warning("Cannot listen to link notifications (%s): VF network settings changed "
                                    "with 'ip link' show after the PF's next change.", strerror(-r));
                m->vf_net_monitor = vf_net_monitor_free(m->vf_net_monitor);
        }
}

void sriov_vf_monitor_stop(Manager *m) {
        m->vf_net_source = sd_event_source_disable_unref(m->vf_net_source);
        m->vf_net_monitor = vf_net_monitor_free(m->vf_net_monitor);
}
