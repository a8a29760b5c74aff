/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "sysfs-queue.h"

/* One parent's jobs, in order; `running` while a worker serves it. */
typedef struct Lane {
        char key[320];
        SysfsJob *head, *tail;
        bool running;
        struct Lane *next;
} Lane;

struct SysfsQueue {
        pthread_mutex_t lock;   /* guards the lanes and the done list */
        Lane *lanes;
        SysfsJob *done_head, *done_tail;
        int efd;                /* workers → event loop: a job is done */
        sd_event_source *source;
};

typedef struct Worker {
        struct SysfsQueue *q;
        Lane *lane;
} Worker;

static void job_free(SysfsJob *j) {
        if (!j)
                return;
        siov_ctx_unref(j->ctx);
        free(j->msg);
        free(j);
}

static void *worker_run(void *userdata) {
        Worker *w = userdata;
        struct SysfsQueue *q = w->q;
        Lane *l = w->lane;
        uint64_t one = 1;

        free(w);
        pthread_mutex_lock(&q->lock);
        for (;;) {
                SysfsJob *j = l->head;

                if (!j) {
                        /* Done: the lane goes (removals make one each). */
                        Lane **p = &q->lanes;

                        while (*p != l)
                                p = &(*p)->next;
                        *p = l->next;
                        free(l);
                        break;
                }
                l->head = j->next;
                if (!l->head)
                        l->tail = NULL;
                j->next = NULL;
                pthread_mutex_unlock(&q->lock);

                j->r = j->work(j->ctx, j);

                pthread_mutex_lock(&q->lock);
                if (q->done_tail)
                        q->done_tail->next = j;
                else
                        q->done_head = j;
                q->done_tail = j;
                if (write(q->efd, &one, sizeof(one)) < 0) {
                        /* the counter cannot overflow at one per job */
                }
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        struct SysfsQueue *q = m->sysfs_queue;
        SysfsJob *j, *next;
        uint64_t n;

        if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                log_warning_errno(errno, "Cannot read the worker notification: %m");
        pthread_mutex_lock(&q->lock);
        j = q->done_head;
        q->done_head = q->done_tail = NULL;
        pthread_mutex_unlock(&q->lock);

        for (; j; j = next) {
                next = j->next;
                j->done(m, j);
                job_free(j);
        }
        return 0;
}

int sysfs_queue_start(Manager *m) {
        struct SysfsQueue *q;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        pthread_mutex_init(&q->lock, NULL);
        q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->efd < 0) {
                r = -errno;
                free(q);
                return r;
        }
        m->sysfs_queue = q;
        /* Before D-Bus calls: a finished write is answered, and the model
         * updated, before the next call is looked at. */
        r = sd_event_add_io(m->event, &q->source, q->efd, EPOLLIN, on_done, m);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(q->source, SIOV_PRIORITY_REFRESH);
}

void sysfs_queue_stop(Manager *m) {
        struct SysfsQueue *q = m->sysfs_queue;
        bool busy = false;

        if (!q)
                return;
        q->source = sd_event_source_disable_unref(q->source);
        pthread_mutex_lock(&q->lock);
        for (Lane *l = q->lanes; l; l = l->next)
                busy = busy || l->running;
        pthread_mutex_unlock(&q->lock);
        if (busy) {
                /* A worker still waits for the kernel (a held remove): it
                 * owns the queue until the process ends. */
                log_info("Exiting with sysfs writes still waiting for the kernel.");
                m->sysfs_queue = NULL;
                return;
        }
        while (q->lanes) {
                Lane *l = q->lanes;

                q->lanes = l->next;
                free(l);
        }
        for (SysfsJob *j = q->done_head, *next; j; j = next) {
                next = j->next;
                job_free(j);
        }
        close(q->efd);
        pthread_mutex_destroy(&q->lock);
        free(q);
        m->sysfs_queue = NULL;
}

int sysfs_queue_submit(Manager *m, SysfsJob *j) {
        struct SysfsQueue *q = m->sysfs_queue;
        pthread_attr_t attr;
        pthread_t t;
        Worker *w;
        Lane *l;
        int r = 0;

        assert(q);
        j->ctx = siov_ctx_ref(m->ctx);
        j->next = NULL;
        if (isempty(j->key))
                snprintf(j->key, sizeof(j->key), "%s", j->parent);
        pthread_mutex_lock(&q->lock);
        for (l = q->lanes; l && !streq(l->key, j->key); l = l->next)
                ;
        if (!l) {
                l = calloc(1, sizeof(*l));
                if (!l) {
                        r = -ENOMEM;
                        goto finish;
                }
                snprintf(l->key, sizeof(l->key), "%s", j->key);
                l->next = q->lanes;
                q->lanes = l;
        }
        if (l->tail)
                l->tail->next = j;
        else
                l->head = j;
        l->tail = j;
        if (l->running)
                goto finish;

        w = malloc(sizeof(*w));
        if (!w) {
                r = -ENOMEM;
                goto unqueue;
        }
        *w = (Worker) { q, l };
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* libsiov keeps a few PATH_MAX buffers on the stack, no more. */
        pthread_attr_setstacksize(&attr, 256 * 1024);
        /* Signals stay with the event loop (blocked there, inherited). */
        r = -pthread_create(&t, &attr, worker_run, w);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                free(w);
                goto unqueue;
        }
        l->running = true;
        goto finish;

unqueue:
        /* j is the lane's last job and no worker runs: take it back (the
         * lane goes with it when empty). */
        if (l->head == j) {
                Lane **p = &q->lanes;

                while (*p != l)
                        p = &(*p)->next;
                *p = l->next;
                free(l);
        } else {
                SysfsJob *p = l->head;

                while (p->next != j)
                        p = p->next;
                p->next = NULL;
                l->tail = p;
        }
finish:
        pthread_mutex_unlock(&q->lock);
        if (r < 0) {
                siov_ctx_unref(j->ctx);
                j->ctx = NULL;
        }
        return r;
}

int sysfs_queue_submit_pending(Manager *m, SysfsJob *j, const char *key, void *pending) {
        int r;

        r = hashmap_put(m->pending, key, pending);
        if (r < 0)
                return r;
        r = sysfs_queue_submit(m, j);
        if (r < 0)
                (void) hashmap_remove(m->pending, key);
        return r;
}
