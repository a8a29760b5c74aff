/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lifecycle.h"
#include "parent.h"

/* SR-IOV physical functions: the VF count, autoprobe and their persistent
 * configuration. Every function sets `error` to a named org.siov1.Error
 * and returns its errno; a refusal changes nothing. */

/* Changes sriov_numvfs to n. The kernel only goes 0→N and N→0, so any
 * change from N > 0 removes every VF first: refused (Busy, listing each VF
 * and why) while a VF is assigned to a VM, held by siovd or opened through
 * VFIO, or used by the host (a netdev up, a block device mounted or held);
 * force skips only the host use. n over sriov_totalvfs is InvalidArgument.
 * After a change the PF's autostart VF devices are started. The writes run
 * on the PF's sysfs worker: a refusal returns <0 with `error` set and done
 * is not called; else done.fn (if set) is called once, from the event
 * loop, when the kernel is done (possibly before this returns); a change
 * of a PF whose count is being changed is Busy. */
int sriov_set_numvfs(Parent *p, uint32_t n, bool force, bool persistent, LifecycleDone done, sd_bus_error *error);
/* Writes sriov_drivers_autoprobe (no write when it already has that value);
 * Busy while the PF's VF count is being changed. */
int sriov_set_autoprobe(Parent *p, bool on, bool persistent, sd_bus_error *error);

/* At boot and on hotplug (ProvisionParent), before the autostart devices:
 * the PF's persistent autoprobe, then its VF count when it has no VFs (a
 * count someone set is left alone, and said). No-op without a config.
 * Returns 1 when the VFs are being made on the PF's worker: then.fn is
 * called once they are (or failed, logged), from the event loop; else 0
 * and then is not called. */
int sriov_provision(Manager *m, const char *pf, LifecycleDone then);

/* The persistent configuration of a PF (NULL: none) and, when its file
 * could not be used, why (NULL: fine). */
struct siov_pf_config *sriov_config_get(Manager *m, const char *pf);
const char *sriov_config_error(Manager *m, const char *pf);
void sriov_configs_clear(Manager *m);
/* Takes c (NULL: none) as what the file of pf now holds; signals. */
void sriov_config_replace(Manager *m, const char *pf, struct siov_pf_config *c);

/* sriov-vf.c: per-VF network settings of a PF with a netdev.
 * Parent.SetVfNetwork: applies s to VF vf now (on the parent's worker,
 * rtnetlink) and, with persistent, keeps them in the PF's configuration
 * ("vfs"); the call is answered when the PF answered. Refusals (not a PF,
 * no netdev, no such VF, nothing to set) change nothing. */
int sriov_vf_set_network(Parent *p, sd_bus_message *message, uint32_t vf, const struct siov_vf_net *s,
                         bool persistent, sd_bus_error *error);
/* At provisioning, after the VF count: the PF configuration's per-VF
 * settings, each on the parent's worker ahead of the autostart devices. */
void sriov_vf_provision(Manager *m, const char *pf);
/* Link notifications: a change of a PF's netdev re-reads its VFs' network
 * state when someone asked for it (parent_vf_net_refresh). Failing to
 * listen is logged, not fatal. */
void sriov_vf_monitor_start(Manager *m);
void sriov_vf_monitor_stop(Manager *m);
/* One notification: the link with ifindex changed. */
void sriov_vf_link_changed(Manager *m, int ifindex);
