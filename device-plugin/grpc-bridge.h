/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The gRPC C core (libgrpc, Debian's grpc/grpc.h) behind a small interface
 * for an sd-event program: one completion queue, drained by a thread of
 * its own that does nothing but hand each finished operation to the event
 * loop through an eventfd. Everything else — answering calls, streaming,
 * the client call — runs on the event loop, so the plugin's state needs
 * no locks.
 *
 * Messages are bytes (protobuf-c packs and unpacks them); gRPC only moves
 * them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct GrpcBridge GrpcBridge;
typedef struct GrpcServer GrpcServer;
typedef struct GrpcCall GrpcCall;

/* A call came in: method ("/v1beta1.DevicePlugin/Allocate") and its one
 * request message. Answer with bridge_call_reply() (unary) or keep the call
 * and bridge_call_send() on it (server streaming) until closed. */
typedef void (*GrpcHandler)(GrpcCall *call, const char *method, const uint8_t *data, size_t len, void *userdata);
/* A streaming call ended (the client went away, or the server shut down). */
typedef void (*GrpcClosed)(GrpcCall *call, void *userdata);
/* The client call finished: status is a grpc_status_code (0: OK). */
typedef void (*GrpcClientDone)(int status, const char *details, void *userdata);

int bridge_new(sd_event *event, GrpcBridge **ret);
/* Servers and client calls still alive: bridge_free() needs none. */
bool bridge_is_busy(GrpcBridge *b);
/* After the event loop ended: dispatches what gRPC reports until nothing
 * is busy (the servers were stopped) or timeout_ms passed; -ETIMEDOUT
 * then. */
int bridge_drain(GrpcBridge *b, unsigned timeout_ms);
GrpcBridge *bridge_free(GrpcBridge *b);

/* Listens on the Unix socket path (an existing file there is removed
 * first: the kubelet's folder holds only sockets). */
int bridge_server_start(GrpcBridge *b, const char *path, GrpcHandler handler, GrpcClosed closed, void *userdata,
                      GrpcServer **ret);
/* Cancels its calls and stops listening; freed when gRPC is done, and then
 * stopped(userdata) is called (gRPC removes the socket file as it stops
 * listening: a new server on the same path must wait for that). */
void bridge_server_stop(GrpcServer *s, void (*stopped)(void *userdata), void *userdata);

/* Unary answer: data (may be NULL for an empty message) and status 0, or
 * a status and a message. Ends the call. */
void bridge_call_reply(GrpcCall *c, const uint8_t *data, size_t len, int status, const char *details);
/* One message of a server stream. Sends are never queued behind each
 * other: a message given while one is on the way replaces the one
 * waiting (ListAndWatch only ever needs the latest list). */
void bridge_call_send(GrpcCall *c, const uint8_t *data, size_t len);
void *bridge_call_get_userdata(GrpcCall *c);
void bridge_call_set_userdata(GrpcCall *c, void *userdata);

/* A unary call to the server at the Unix socket path, with a deadline;
 * done is called once, from the event loop. */
int bridge_client_call(GrpcBridge *b, const char *path, const char *method, const uint8_t *data, size_t len,
                     unsigned timeout_ms, GrpcClientDone done, void *userdata);
