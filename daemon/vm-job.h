/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lifecycle.h"
#include "manager.h"
#include "vm.h"

/*
 * libvirt calls off the event loop. vm.c's calls block for as long as
 * libvirtd takes (or forever, when it hangs, or holds a VM locked while its
 * hook runs): they run on one lane of the sysfs workers (sysfs-queue.h),
 * key VM_JOB_LANE, so they stay in order and one at a time (vm.c keeps one
 * connection cache and reads libvirt's thread-local error right after each
 * call: every libvirt call is made from that lane). The loop goes on
 * answering; `then` continues the operation in the loop.
 *
 * The wait is bounded: after m->libvirt_timeout_usec `then` gets
 * -ETIMEDOUT and a message naming the VM and the time. A job that had not
 * started by then never runs. One that had keeps its lane until libvirt
 * answers; when that late answer is an attach that succeeded, the worker
 * takes the device out of the VM's definition again at once (the caller
 * was told it failed, and rolled back), so a late completion never leaves
 * a hostdev that siovd does not record. A late detach is only logged: the
 * device's record still names the VM, and an Unassign or Destroy drops it
 * (a hostdev that is gone is what they want).
 *
 * Later libvirt calls queue behind a hung one on the same lane, so they
 * see the VM as the late answer (and its undoing) left it.
 *
 * pending_uuid (or NULL): the device is in m->pending (`being <what>`,
 * Busy for other operations) until `then` is called.
 */
#define VM_JOB_LANE "/libvirt"

/* 20 s: under the 25 s that D-Bus clients wait for an answer by default. */
#define SIOV_LIBVIRT_TIMEOUT_USEC (UINT64_C(20) * 1000000)

typedef enum VmJobOp {
        VM_JOB_EXISTS,          /* r: 1 yes, 0 no (msg says why) */
        VM_JOB_ATTACH,
        VM_JOB_DETACH,
} VmJobOp;

/* r and msg as vm.h's functions return them (msg may be NULL). */
typedef void (*vm_then_t)(Manager *m, int r, const char *msg, void *userdata);

/* h is copied. Returns <0 (then is not called) when the job cannot be
 * queued; else then is called exactly once, from the event loop, later. */
int vm_job_submit(Manager *m, VmJobOp op, const char *vm, const VmHostdev *h, const char *pending_uuid,
                  const char *pending_what, vm_then_t then, void *userdata);

/* A libvirt job is queued or waits for libvirt: vm_close() must not run. */
bool vm_job_busy(Manager *m);
