/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sysfs-queue.h"
#include "vm-job.h"

/* Who got there first: the worker (RUNNING, then FINISHED) or the timer
 * (CANCELLED before the worker started, TIMED_OUT while it ran). */
enum {
        VM_JOB_QUEUED,
        VM_JOB_RUNNING,
        VM_JOB_FINISHED,
        VM_JOB_CANCELLED,
        VM_JOB_TIMED_OUT,
};

typedef struct VmJob {
        PendingOp pending;      /* m->pending's entry, when has_pending */
        bool has_pending;
        VmJobOp op;
        char *uri, *vm;
        /* The hostdev, with its strings copied. */
        VmHostdev h;
        char uuid[SIOV_UUID_STRING_MAX];
        char pci_address[32];
        Manager *manager;       /* for then(), from the loop only */
        uint64_t timeout_usec;
        _Atomic int state;
        bool answered;          /* then() was called (the timer's) */
        sd_event_source *timer;
        vm_then_t then;
        void *userdata;
} VmJob;

static void vm_job_free(VmJob *v) {
        if (!v)
                return;
        sd_event_source_disable_unref(v->timer);
        free(v->uri);
        free(v->vm);
        free(v);
}

static int vm_job_call(VmJob *v, char **msg) {
        switch (v->op) {
        case VM_JOB_EXISTS:
                return vm_exists(v->uri, v->vm, msg);
        case VM_JOB_ATTACH:
                return vm_attach(v->uri, v->vm, &v->h, msg);
        case VM_JOB_DETACH:
                return vm_detach(v->uri, v->vm, &v->h, msg);
        }
        return -EINVAL;
}

/* In the worker: only the job and vm.c. */
static int vm_job_work(struct siov_ctx *ctx, SysfsJob *j) {
        VmJob *v = j->userdata;
        int expected = VM_JOB_QUEUED, r;

        if (!atomic_compare_exchange_strong(&v->state, &expected, VM_JOB_RUNNING))
                return -ECANCELED;      /* timed out before it started: nothing was asked */
        r = vm_job_call(v, &j->msg);
        expected = VM_JOB_RUNNING;
        if (atomic_compare_exchange_strong(&v->state, &expected, VM_JOB_FINISHED))
                return r;
        /* The caller was told it timed out and rolled back: an attach that
         * went through after all is undone, so the VM does not keep it. */
        if (v->op == VM_JOB_ATTACH && r >= 0) {
                _cleanup_free_ char *msg = NULL;
                int k = vm_detach(v->uri, v->vm, &v->h, &msg);

                free(j->msg);
                j->msg = k < 0 ? strdup(strempty(msg)) : NULL;
                return k < 0 ? k : 1;   /* 1: attached late, and detached again */
        }
        return r;
}

static const char *op_name(VmJobOp op) {
        return op == VM_JOB_EXISTS ? "look-up" : op == VM_JOB_ATTACH ? "attach" : "detach";
}

static void vm_job_done(Manager *m, SysfsJob *j) {
        VmJob *v = j->userdata;

        assert(m->n_vm_jobs > 0);
        m->n_vm_jobs--;
        if (!v->answered) {
                if (v->has_pending)
                        (void) hashmap_remove(m->pending, v->pending.uuid);
                v->then(m, j->r, j->msg, v->userdata);
        } else if (j->r == -ECANCELED)
                ;       /* never sent to libvirt */
        else if (v->op == VM_JOB_ATTACH && j->r > 0)
                log_warning("libvirt answered the timed-out attach of %s to VM %s late: it was done, and has "
                            "been undone.", v->h.is_vf ? v->h.pci_address : v->h.uuid, v->vm);
        else if (v->op == VM_JOB_ATTACH && j->r < 0)
                log_error("libvirt answered the timed-out attach of %s to VM %s late, and taking it out of the "
                          "VM's definition again failed: %s. Check the VM's definition.",
                          v->h.is_vf ? v->h.pci_address : v->h.uuid, v->vm, strempty(j->msg));
        else
                log_warning("libvirt answered the timed-out %s about VM %s late (%s); siovd's record is "
                            "unchanged.", op_name(v->op), v->vm, j->r >= 0 ? "done" : strempty(j->msg));
        vm_job_free(v);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        VmJob *v = userdata;
        _cleanup_free_ char *msg = NULL;
        int expected = VM_JOB_QUEUED;
        bool started = false;

        if (!atomic_compare_exchange_strong(&v->state, &expected, VM_JOB_CANCELLED)) {
                if (expected != VM_JOB_RUNNING)
                        return 0;       /* finished: its answer is on its way */
                if (!atomic_compare_exchange_strong(&v->state, &expected, VM_JOB_TIMED_OUT))
                        return 0;
                started = true;
        }
        v->answered = true;
        /* The caller may roll back now (a create removes its device). */
        if (v->has_pending)
                (void) hashmap_remove(v->manager->pending, v->pending.uuid);
        if (asprintf(&msg, "libvirt did not answer the %s about VM '%s' within %" PRIu64 " s: %s; "
                     "check libvirtd (is it running? virsh list), then try again",
                     op_name(v->op), v->vm, v->timeout_usec / 1000000,
                     !started ? "it was not asked (an earlier libvirt call is still waiting)" :
                     v->op == VM_JOB_ATTACH ? "siovd changed nothing (if libvirt does it later, siovd undoes it)" :
                     v->op == VM_JOB_DETACH ? "siovd's record is unchanged (libvirt may still do it)" :
                     "nothing was changed") < 0)
                msg = NULL;
        v->then(v->manager, -ETIMEDOUT, msg, v->userdata);
        return 0;
}

int vm_job_submit(Manager *m, VmJobOp op, const char *vm, const VmHostdev *h, const char *pending_uuid,
                  const char *pending_what, vm_then_t then, void *userdata) {
        VmJob *v;
        SysfsJob *j;
        int r;

        v = calloc(1, sizeof(*v));
        j = calloc(1, sizeof(*j));
        if (!v || !j || !(v->vm = strdup(strempty(vm))) || (m->libvirt_uri && !(v->uri = strdup(m->libvirt_uri)))) {
                r = -ENOMEM;
                goto fail;
        }
        v->manager = m;
        v->op = op;
        v->then = then;
        v->userdata = userdata;
        v->timeout_usec = m->libvirt_timeout_usec;
        atomic_init(&v->state, VM_JOB_QUEUED);
        if (h) {
                v->h = *h;
                snprintf(v->uuid, sizeof(v->uuid), "%s", strempty(h->uuid));
                snprintf(v->pci_address, sizeof(v->pci_address), "%s", strempty(h->pci_address));
                v->h.uuid = h->uuid ? v->uuid : NULL;
                v->h.pci_address = h->pci_address ? v->pci_address : NULL;
        }
        if (pending_uuid) {
                snprintf(v->pending.uuid, sizeof(v->pending.uuid), "%s", pending_uuid);
                v->pending.what = pending_what;
                v->has_pending = true;
        }
        r = sd_event_add_time_relative(m->event, &v->timer, CLOCK_MONOTONIC, v->timeout_usec, 0, on_timeout, v);
        if (r < 0)
                goto fail;

        /* The lane's key cannot be a parent's: sysfs names have no '/'. */
        snprintf(j->key, sizeof(j->key), "%s", VM_JOB_LANE);
        snprintf(j->parent, sizeof(j->parent), "%s", VM_JOB_LANE);
        j->work = vm_job_work;
        j->done = vm_job_done;
        j->userdata = v;
        r = pending_uuid ? sysfs_queue_submit_pending(m, j, v->pending.uuid, &v->pending) : sysfs_queue_submit(m, j);
        if (r < 0)
                goto fail;
        m->n_vm_jobs++;
        return 0;

fail:
        free(j);
        vm_job_free(v);
        return r;
}

bool vm_job_busy(Manager *m) {
        return m->n_vm_jobs > 0;
}
