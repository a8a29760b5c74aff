/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vm.h without libvirt (configure --without-libvirt): no VM can be named,
 * so no device is in one; every call that needs a VM says why it cannot. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

static int no_libvirt(char **error_msg) {
        if (error_msg) {
                free(*error_msg);
                *error_msg = strdup("siovd was built without libvirt (configure --with-libvirt): "
                                    "devices cannot be assigned to VMs");
        }
        return -EOPNOTSUPP;
}

int vm_exists(const char *uri, const char *vm, char **error_msg) {
        return no_libvirt(error_msg);
}

int vm_is_running(const char *uri, const char *vm, char **error_msg) {
        return no_libvirt(error_msg);
}

int vm_attach(const char *uri, const char *vm, const VmHostdev *h, char **error_msg) {
        return no_libvirt(error_msg);
}

int vm_detach(const char *uri, const char *vm, const VmHostdev *h, char **error_msg) {
        return no_libvirt(error_msg);
}

static int no_users(char ***ret) {
        *ret = calloc(1, sizeof(char *));
        return *ret ? 0 : -ENOMEM;
}

int vm_find_users(const char *uri, const VmHostdev *h, char ***ret, char **error_msg) {
        return no_users(ret);
}

int vm_find_running_users(const char *uri, const VmHostdev *h, char ***ret, char **error_msg) {
        return no_users(ret);
}

int vm_connect(const char *uri, struct _virConnect **ret, char **error_msg) {
        return no_libvirt(error_msg);
}

void vm_close(void) {
}
