/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Built without libnl (configure --without-libnl): VF network settings are
 * refused, saying why; nothing is read. */

#include <errno.h>
#include <stdio.h>

#include "sriov-net.h"

const VfNetTransport vf_net_kernel_transport = {};

bool vf_net_supported(void) {
        return false;
}

int vf_net_apply(const VfNetTransport *t, const char *pf, const char *ifname, uint32_t vf,
                 const struct siov_vf_net *s, char **error_msg) {
        return asprintf(error_msg, "this siovd was built without libnl: it cannot set VF %u of %s", vf, pf) < 0 ?
                -ENOMEM : -EOPNOTSUPP;
}

int vf_net_read(const VfNetTransport *t, const char *pf, const char *ifname, VfNetState **ret, size_t *ret_n,
                char **error_msg) {
        *ret = NULL;
        *ret_n = 0;
        *error_msg = NULL;
        return -EOPNOTSUPP;
}


int vf_net_monitor_open(VfNetMonitor **ret) {
        return -EOPNOTSUPP;
}

int vf_net_monitor_fd(const VfNetMonitor *mon) {
        return -EBADF;
}

int vf_net_monitor_read(VfNetMonitor *mon, void (*cb)(int ifindex, void *userdata), void *userdata) {
        return -EOPNOTSUPP;
}

VfNetMonitor *vf_net_monitor_free(VfNetMonitor *mon) {
        return NULL;
}
