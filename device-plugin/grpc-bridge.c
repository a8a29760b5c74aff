/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gRPC C core on an sd-event loop. gRPC reports every finished batch
 * on a completion queue that must be waited on; a thread of ours waits and
 * only passes (tag, success) pairs to the loop through an eventfd, where
 * they are dispatched. All gRPC calls other than the wait happen on the
 * loop, and every object below is touched by the loop only.
 *
 * Each tag is an Op inside the object it belongs to; an object lives until
 * the last of its operations has come back (n_ops), so gRPC never reports
 * a tag whose memory is gone.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "grpc-bridge.h"

typedef enum OpKind {
        OP_REQUEST,     /* the server's request for the next incoming call */
        OP_SHUTDOWN,    /* the server has shut down */
        OP_RECV,        /* a call's request message */
        OP_CLOSE,       /* a call is over (answered, or cancelled by the client) */
        OP_SEND,        /* one streamed message went out */
        OP_REPLY,       /* a unary answer went out */
        OP_CLIENT,      /* our own client call finished */
} OpKind;

typedef struct Op {
        OpKind kind;
        void *owner;
} Op;

typedef struct Event {
        Op *op;
        bool success;
} Event;

struct GrpcBridge {
        sd_event *event;
        sd_event_source *source;
        grpc_completion_queue *cq;
        int efd;
        pthread_t thread;
        pthread_mutex_t lock;
        Event *events;          /* filled by the thread, taken by the loop */
        size_t n_events, allocated;
        unsigned n_servers, n_clients;
};

struct GrpcServer {
        GrpcBridge *b;
        grpc_server *server;
        char *path;
        GrpcHandler handler;
        GrpcClosed closed;
        void *userdata;
        unsigned n_ops, n_calls;
        bool stopping;
        void (*stopped)(void *userdata);
        void *stopped_userdata;
        /* the pending request for a call */
        Op request;
        grpc_call *new_call;
        grpc_call_details details;
        grpc_metadata_array metadata;
        Op shutdown;
};

struct GrpcCall {
        GrpcServer *s;
        grpc_call *call;
        char *method;
        unsigned n_ops;
        void *userdata;
        Op recv, close, send, reply;
        grpc_byte_buffer *recv_buf;
        int cancelled;
        bool closed, replied, sending;
        grpc_byte_buffer *send_buf;
        grpc_byte_buffer *next;         /* the message waiting for the one in flight */
        grpc_slice details;
        bool have_details;
};

typedef struct ClientCall {
        Op op;
        GrpcBridge *b;
        grpc_channel *channel;
        grpc_call *call;
        grpc_metadata_array initial, trailing;
        grpc_byte_buffer *request, *response;
        grpc_status_code status;
        grpc_slice details;
        GrpcClientDone done;
        void *userdata;
} ClientCall;

static void *pump(void *userdata) {
        GrpcBridge *b = userdata;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(b->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
                uint64_t one = 1;

                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type != GRPC_OP_COMPLETE)
                        continue;
                pthread_mutex_lock(&b->lock);
                if (b->n_events == b->allocated) {
                        size_t n = b->allocated ? b->allocated * 2 : 64;
                        Event *e = realloc(b->events, n * sizeof(Event));

                        if (!e)
                                abort();        /* a lost tag would leak a call forever */
                        b->events = e;
                        b->allocated = n;
                }
                b->events[b->n_events++] = (Event) { ev.tag, ev.success != 0 };
                pthread_mutex_unlock(&b->lock);
                (void) !write(b->efd, &one, sizeof(one));
        }
        return NULL;
}

static grpc_byte_buffer *buffer_new(const uint8_t *data, size_t len) {
        grpc_slice s = grpc_slice_from_copied_buffer((const char *) data, len);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

        grpc_slice_unref(s);
        return bb;
}

static void server_maybe_free(GrpcServer *s) {
        void (*stopped)(void *) = s->stopped;
        void *u = s->stopped_userdata;

        if (!s->stopping || s->n_ops > 0 || s->n_calls > 0)
                return;
        grpc_server_destroy(s->server);
        s->b->n_servers--;
        free(s->path);
        free(s);
        if (stopped)
                stopped(u);
}

static void server_request(GrpcServer *s) {
        grpc_call_error e;

        grpc_call_details_init(&s->details);
        grpc_metadata_array_init(&s->metadata);
        s->new_call = NULL;
        e = grpc_server_request_call(s->server, &s->new_call, &s->details, &s->metadata, s->b->cq, s->b->cq,
                                     &s->request);
        if (e == GRPC_CALL_OK)
                s->n_ops++;
        else {
                grpc_call_details_destroy(&s->details);
                grpc_metadata_array_destroy(&s->metadata);
        }
}

static void call_maybe_free(GrpcCall *c) {
        GrpcServer *s = c->s;

        if (c->n_ops > 0)
                return;
        if (c->recv_buf)
                grpc_byte_buffer_destroy(c->recv_buf);
        if (c->send_buf)
                grpc_byte_buffer_destroy(c->send_buf);
        if (c->next)
                grpc_byte_buffer_destroy(c->next);
        if (c->have_details)
                grpc_slice_unref(c->details);
        grpc_call_unref(c->call);
        gpr_free(c->method);
        free(c);
        s->n_calls--;
        server_maybe_free(s);
}

static void call_start(GrpcCall *c, grpc_op *ops, size_t n, Op *tag) {
        if (grpc_call_start_batch(c->call, ops, n, tag, NULL) == GRPC_CALL_OK)
                c->n_ops++;
}

static void server_accept(GrpcServer *s) {
        GrpcCall *c = calloc(1, sizeof(*c));
        grpc_op ops[2] = {};

        if (!c) {
                grpc_call_cancel(s->new_call, NULL);
                grpc_call_unref(s->new_call);
                return;
        }
        c->s = s;
        c->call = s->new_call;
        c->method = grpc_slice_to_c_string(s->details.method);
        c->recv = (Op) { OP_RECV, c };
        c->close = (Op) { OP_CLOSE, c };
        c->send = (Op) { OP_SEND, c };
        c->reply = (Op) { OP_REPLY, c };
        s->n_calls++;

        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_RECV_MESSAGE;
        ops[1].data.recv_message.recv_message = &c->recv_buf;
        call_start(c, ops, 2, &c->recv);
        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[0].data.recv_close_on_server.cancelled = &c->cancelled;
        call_start(c, ops, 1, &c->close);
        if (c->n_ops == 0) {
                c->closed = true;
                call_maybe_free(c);
        }
}

static void dispatch(Event *e) {
        Op *op = e->op;

        switch (op->kind) {
        case OP_REQUEST: {
                GrpcServer *s = op->owner;

                s->n_ops--;
                if (e->success && s->new_call) {
                        if (s->stopping) {
                                grpc_call_cancel(s->new_call, NULL);
                                grpc_call_unref(s->new_call);
                        } else
                                server_accept(s);
                }
                grpc_call_details_destroy(&s->details);
                grpc_metadata_array_destroy(&s->metadata);
                if (!s->stopping && e->success)
                        server_request(s);
                server_maybe_free(s);
                break;
        }
        case OP_SHUTDOWN: {
                GrpcServer *s = op->owner;

                s->n_ops--;
                server_maybe_free(s);
                break;
        }
        case OP_RECV: {
                GrpcCall *c = op->owner;

                c->n_ops--;
                if (e->success && c->recv_buf && !c->closed) {
                        grpc_byte_buffer_reader r;
                        grpc_slice sl;

                        if (grpc_byte_buffer_reader_init(&r, c->recv_buf)) {
                                sl = grpc_byte_buffer_reader_readall(&r);
                                grpc_byte_buffer_reader_destroy(&r);
                                c->s->handler(c, c->method, GRPC_SLICE_START_PTR(sl), GRPC_SLICE_LENGTH(sl),
                                              c->s->userdata);
                                grpc_slice_unref(sl);
                        } else
                                bridge_call_reply(c, NULL, 0, GRPC_STATUS_INTERNAL, "unreadable request");
                } else if (!c->closed)
                        bridge_call_reply(c, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, "no request message");
                call_maybe_free(c);
                break;
        }
        case OP_CLOSE: {
                GrpcCall *c = op->owner;

                c->n_ops--;
                c->closed = true;
                if (!c->replied && c->s->closed)
                        c->s->closed(c, c->s->userdata);
                call_maybe_free(c);
                break;
        }
        case OP_SEND: {
                GrpcCall *c = op->owner;

                c->n_ops--;
                c->sending = false;
                grpc_byte_buffer_destroy(c->send_buf);
                c->send_buf = NULL;
                if (c->next && !c->closed && e->success) {
                        grpc_byte_buffer *bb = c->next;
                        grpc_op o = { .op = GRPC_OP_SEND_MESSAGE };

                        c->next = NULL;
                        c->send_buf = bb;
                        o.data.send_message.send_message = bb;
                        c->sending = true;
                        call_start(c, &o, 1, &c->send);
                        if (c->n_ops == 0 || !c->sending) {
                                c->sending = false;
                        }
                }
                call_maybe_free(c);
                break;
        }
        case OP_REPLY: {
                GrpcCall *c = op->owner;

                c->n_ops--;
                if (c->send_buf) {
                        grpc_byte_buffer_destroy(c->send_buf);
                        c->send_buf = NULL;
                }
                call_maybe_free(c);
                break;
        }
        case OP_CLIENT: {
                ClientCall *cc = op->owner;
                char *details = grpc_slice_to_c_string(cc->details);

                cc->done(e->success ? (int) cc->status : GRPC_STATUS_UNAVAILABLE, details, cc->userdata);
                gpr_free(details);
                grpc_slice_unref(cc->details);
                grpc_metadata_array_destroy(&cc->initial);
                grpc_metadata_array_destroy(&cc->trailing);
                if (cc->request)
                        grpc_byte_buffer_destroy(cc->request);
                if (cc->response)
                        grpc_byte_buffer_destroy(cc->response);
                grpc_call_unref(cc->call);
                grpc_channel_destroy(cc->channel);
                cc->b->n_clients--;
                free(cc);
                break;
        }
        }
}

static int on_efd(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        GrpcBridge *b = userdata;
        Event *events;
        size_t n;
        uint64_t v;

        (void) !read(fd, &v, sizeof(v));
        pthread_mutex_lock(&b->lock);
        events = b->events;
        n = b->n_events;
        b->events = NULL;
        b->n_events = b->allocated = 0;
        pthread_mutex_unlock(&b->lock);
        for (size_t i = 0; i < n; i++)
                dispatch(&events[i]);
        free(events);
        return 0;
}

int bridge_new(sd_event *event, GrpcBridge **ret) {
        GrpcBridge *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return -ENOMEM;
        grpc_init();
        b->event = sd_event_ref(event);
        b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (b->efd < 0) {
                r = -errno;
                goto fail;
        }
        pthread_mutex_init(&b->lock, NULL);
        b->cq = grpc_completion_queue_create_for_next(NULL);
        r = sd_event_add_io(event, &b->source, b->efd, EPOLLIN, on_efd, b);
        if (r < 0)
                goto fail;
        r = -pthread_create(&b->thread, NULL, pump, b);
        if (r < 0)
                goto fail;
        *ret = b;
        return 0;
fail:
        sd_event_source_disable_unref(b->source);
        if (b->cq)
                grpc_completion_queue_destroy(b->cq);
        if (b->efd >= 0)
                close(b->efd);
        sd_event_unref(b->event);
        free(b);
        return r;
}

bool bridge_is_busy(GrpcBridge *b) {
        return b && (b->n_servers > 0 || b->n_clients > 0);
}

int bridge_drain(GrpcBridge *b, unsigned timeout_ms) {
        struct timespec start, now;

        clock_gettime(CLOCK_MONOTONIC, &start);
        while (bridge_is_busy(b)) {
                struct pollfd pfd = { .fd = b->efd, .events = POLLIN };
                long left;

                clock_gettime(CLOCK_MONOTONIC, &now);
                left = (long) timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
                if (left <= 0)
                        return -ETIMEDOUT;
                if (poll(&pfd, 1, (int) left) < 0 && errno != EINTR)
                        return -errno;
                if (pfd.revents & POLLIN)
                        (void) on_efd(NULL, b->efd, EPOLLIN, b);
        }
        return 0;
}

/* Once nothing is busy: the queue is shut down, the thread sees that and
 * ends, and gRPC is let go. */
GrpcBridge *bridge_free(GrpcBridge *b) {
        if (!b)
                return NULL;
        grpc_completion_queue_shutdown(b->cq);
        pthread_join(b->thread, NULL);
        grpc_completion_queue_destroy(b->cq);
        sd_event_source_disable_unref(b->source);
        close(b->efd);
        free(b->events);
        sd_event_unref(b->event);
        pthread_mutex_destroy(&b->lock);
        free(b);
        grpc_shutdown();
        return NULL;
}

int bridge_server_start(GrpcBridge *b, const char *path, GrpcHandler handler, GrpcClosed closed, void *userdata,
                      GrpcServer **ret) {
        GrpcServer *s = calloc(1, sizeof(*s));
        grpc_server_credentials *creds;
        char *target = NULL;
        int port;

        if (!s)
                return -ENOMEM;
        s->b = b;
        s->handler = handler;
        s->closed = closed;
        s->userdata = userdata;
        s->request = (Op) { OP_REQUEST, s };
        s->shutdown = (Op) { OP_SHUTDOWN, s };
        s->path = strdup(path);
        if (!s->path || asprintf(&target, "unix:%s", path) < 0) {
                free(s->path);
                free(s);
                return -ENOMEM;
        }
        (void) unlink(path);
        s->server = grpc_server_create(NULL, NULL);
        grpc_server_register_completion_queue(s->server, b->cq, NULL);
        creds = grpc_insecure_server_credentials_create();
        port = grpc_server_add_http2_port(s->server, target, creds);
        grpc_server_credentials_release(creds);
        free(target);
        if (port == 0) {
                grpc_server_destroy(s->server);
                free(s->path);
                free(s);
                return -EADDRNOTAVAIL;
        }
        grpc_server_start(s->server);
        b->n_servers++;
        server_request(s);
        *ret = s;
        return 0;
}

void bridge_server_stop(GrpcServer *s, void (*stopped)(void *userdata), void *userdata) {
        if (!s || s->stopping)
                return;
        s->stopping = true;
        s->stopped = stopped;
        s->stopped_userdata = userdata;
        grpc_server_shutdown_and_notify(s->server, s->b->cq, &s->shutdown);
        s->n_ops++;
        grpc_server_cancel_all_calls(s->server);
}

void bridge_call_reply(GrpcCall *c, const uint8_t *data, size_t len, int status, const char *details) {
        grpc_op ops[2] = {};
        size_t n = 0;

        if (c->replied || c->closed)
                return;
        c->replied = true;
        if (status == GRPC_STATUS_OK) {
                c->send_buf = buffer_new(data ?: (const uint8_t *) "", len);
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = c->send_buf;
        }
        c->details = grpc_slice_from_copied_string(details ?: "");
        c->have_details = true;
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = (grpc_status_code) status;
        ops[n++].data.send_status_from_server.status_details = &c->details;
        call_start(c, ops, n, &c->reply);
}

void bridge_call_send(GrpcCall *c, const uint8_t *data, size_t len) {
        grpc_op o = { .op = GRPC_OP_SEND_MESSAGE };

        if (c->replied || c->closed)
                return;
        if (c->sending) {
                if (c->next)
                        grpc_byte_buffer_destroy(c->next);
                c->next = buffer_new(data, len);
                return;
        }
        c->send_buf = buffer_new(data, len);
        o.data.send_message.send_message = c->send_buf;
        c->sending = true;
        if (grpc_call_start_batch(c->call, &o, 1, &c->send, NULL) == GRPC_CALL_OK)
                c->n_ops++;
        else {
                c->sending = false;
                grpc_byte_buffer_destroy(c->send_buf);
                c->send_buf = NULL;
        }
}

void *bridge_call_get_userdata(GrpcCall *c) {
        return c->userdata;
}

void bridge_call_set_userdata(GrpcCall *c, void *userdata) {
        c->userdata = userdata;
}

int bridge_client_call(GrpcBridge *b, const char *path, const char *method, const uint8_t *data, size_t len,
                     unsigned timeout_ms, GrpcClientDone done, void *userdata) {
        ClientCall *cc = calloc(1, sizeof(*cc));
        grpc_channel_credentials *creds;
        grpc_slice m;
        grpc_op ops[6] = {};
        char *target = NULL;
        gpr_timespec deadline;

        if (!cc)
                return -ENOMEM;
        if (asprintf(&target, "unix:%s", path) < 0) {
                free(cc);
                return -ENOMEM;
        }
        cc->op = (Op) { OP_CLIENT, cc };
        cc->b = b;
        cc->done = done;
        cc->userdata = userdata;
        creds = grpc_insecure_credentials_create();
        cc->channel = grpc_channel_create(target, creds, NULL);
        grpc_channel_credentials_release(creds);
        free(target);
        deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
        m = grpc_slice_from_copied_string(method);
        cc->call = grpc_channel_create_call(cc->channel, NULL, GRPC_PROPAGATE_DEFAULTS, b->cq, m, NULL, deadline,
                                            NULL);
        grpc_slice_unref(m);
        grpc_metadata_array_init(&cc->initial);
        grpc_metadata_array_init(&cc->trailing);
        cc->request = buffer_new(data, len);

        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = cc->request;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &cc->initial;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &cc->response;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &cc->trailing;
        ops[5].data.recv_status_on_client.status = &cc->status;
        ops[5].data.recv_status_on_client.status_details = &cc->details;
        if (grpc_call_start_batch(cc->call, ops, 6, &cc->op, NULL) != GRPC_CALL_OK) {
                grpc_metadata_array_destroy(&cc->initial);
                grpc_metadata_array_destroy(&cc->trailing);
                grpc_byte_buffer_destroy(cc->request);
                grpc_call_unref(cc->call);
                grpc_channel_destroy(cc->channel);
                free(cc);
                return -EIO;
        }
        b->n_clients++;
        return 0;
}
