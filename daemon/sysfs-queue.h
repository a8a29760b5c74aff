/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/*
 * Sysfs writes that can block (create, remove, driver bind/unbind) run off
 * the event loop: one worker thread per parent that has work, so that the
 * writes of one parent keep their order, different parents proceed in
 * parallel, and the event loop goes on answering while the kernel works
 * (a `remove` waits for as long as a VM holds the device). A thread exits
 * when its queue is empty. A removal, which the kernel may hold for as long
 * as a VM keeps the device, gets a queue of its own (key parent/uuid), so
 * that it does not hold up the parent's other writes.
 *
 * A job's work() runs in the worker: it may use only the library context
 * and its own job, never the Manager or its objects. done() runs in the
 * event loop once work() returned, in submission order per parent.
 */
typedef struct SysfsJob SysfsJob;
struct SysfsJob {
        char parent[256];
        /* The queue: jobs with the same key run in order ("" = parent). */
        char key[320];
        int (*work)(struct siov_ctx *ctx, SysfsJob *j);
        void (*done)(Manager *m, SysfsJob *j);
        void *userdata;

        int r;                  /* what work() returned */
        char *msg;              /* the kernel's message, set by work() */

        struct siov_ctx *ctx;   /* private */
        SysfsJob *next;
};

int sysfs_queue_start(Manager *m);
/* Threads still blocked in the kernel are left to the exit of the process. */
void sysfs_queue_stop(Manager *m);
/* Takes j (malloc'd, freed with its msg after done()). */
int sysfs_queue_submit(Manager *m, SysfsJob *j);
/* The same, with pending in m->pending under key while the job runs (its
 * done() removes it); on failure nothing is left there and j is not
 * taken. */
int sysfs_queue_submit_pending(Manager *m, SysfsJob *j, const char *key, void *pending);
