/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Asynchronous polkit checks for method handlers.
 *
 * Life of a query (one per incoming method call that needs polkit):
 *
 *  1. A handler calls siov_polkit_verify(call, action, …). Root callers
 *     (sender euid 0) are authorized at once, without a query. Otherwise a
 *     PolkitQuery is created, keyed in the registry by the address of the
 *     call message (we hold a reference, so no other message can have that
 *     address while the query lives; unlike sender+serial, a client reusing
 *     a serial cannot reach another call's answers). CheckAuthorization is
 *     sent with sd_bus_call_async() and verify returns 0; the handler
 *     returns 1 and siovd serves other calls meanwhile.
 *  2. polkit answers (or the call fails: no polkit on the bus, timeout):
 *     query_reply() records the answer under (action, details), rewinds the
 *     call message and puts it back into the bus's read queue with
 *     sd_bus_enqueue_for_read(), and arms an idle-priority defer source.
 *  3. sd-bus dispatches the call again, from the start: the object is
 *     looked up again (it may be gone) and the handler runs again. Its
 *     verify finds the recorded answer and returns 1 or the error. If the
 *     handler needs another action it is asked the same way (back to 2),
 *     earlier answers stay recorded.
 *  4. The defer source runs when the loop is idle, i.e. after the
 *     re-dispatched call was handled: with no query in flight it frees the
 *     PolkitQuery (answers, message reference) and removes it from the
 *     registry. If the handler asked another action, the next answer
 *     re-arms it.
 *  siov_polkit_registry_free() cancels whatever is in flight (the pending
 *  calls' slots are released, so no callback runs afterwards) and frees all.
 *
 * Deny by default: any failure to get a clear "yes" from polkit is a
 * refusal with org.siov1.Error.NotAuthorized naming the action.
 *
 * The root check asks the bus driver for the sender's credentials
 * (GetConnectionCredentials, a synchronous call to dbus-daemon/dbus-broker,
 * which answer from memory, as systemd's daemons do); polkit itself is never
 * called synchronously.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "polkit.h"
#include "siov-names.h"

#define POLKIT_NAME      "org.freedesktop.PolicyKit1"
#define POLKIT_PATH      "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"

/* CheckAuthorization flags */
#define POLKIT_ALLOW_USER_INTERACTION 1u

/* CheckAuthorization calls one sender may have in flight; more are Busy
 * (identical ones share one call and do not count). */
#define SIOV_POLKIT_SENDER_MAX 8u

/* An interactive check waits for a person typing a password: give it far
 * longer than sd-bus's default 25 s. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5ULL * 60ULL * 1000000ULL)

/* ---- the method → action table ----------------------------------------- */

struct method_action {
        const char *interface;
        const char *member;
        const char *action;     /* NULL: a read */
};

static const struct method_action method_actions[] = {
        { SIOV_DBUS_MANAGER_INTERFACE, "ListDevices",     NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "ListParents",     NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "ListTypes",       NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "GetStatus",       NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "Rescan",          NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "ListParentConfigs", NULL             },
        { SIOV_DBUS_MANAGER_INTERFACE, "CheckMigration",  NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "ListVgpus",       NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "ListVfNetwork",   NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "ListOwners",      NULL               },
        { SIOV_DBUS_MANAGER_INTERFACE, "CreateDevice",    SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_MANAGER_INTERFACE, "DefineDevice",    SIOV_POLKIT_DEFINE },
        { SIOV_DBUS_MANAGER_INTERFACE, "ImportMdevctl",   SIOV_POLKIT_DEFINE },
        { SIOV_DBUS_MANAGER_INTERFACE, "ProvisionParent", SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Start",           SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Stop",            SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Destroy",         SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Undefine",        SIOV_POLKIT_DEFINE },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Modify",          SIOV_POLKIT_DEFINE },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Assign",          SIOV_POLKIT_ASSIGN },
        { SIOV_DBUS_DEVICE_INTERFACE,  "Unassign",        SIOV_POLKIT_ASSIGN },
        { SIOV_DBUS_PARENT_INTERFACE,  "SetNumVFs",       SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_PARENT_INTERFACE,  "SetAutoprobe",    SIOV_POLKIT_MANAGE },
        { SIOV_DBUS_PARENT_INTERFACE,  "SetVfNetwork",    SIOV_POLKIT_MANAGE },
};

static bool interface_is_ours(const char *interface) {
        return strncmp(interface, "org.siov1.", strlen("org.siov1.")) == 0;
}

const char *siov_polkit_action_for(const char *interface, const char *member) {
        if (isempty(member))
                return SIOV_POLKIT_ACTION_DENY;

        if (!interface) {
                /* sd-bus dispatches an interface-less call to the first
                 * member of that name; our members are unique across our
                 * interfaces, so the member alone names the method. */
                for (size_t i = 0; i < ELEMENTSOF(method_actions); i++)
                        if (streq(method_actions[i].member, member))
                                return method_actions[i].action;
                return SIOV_POLKIT_ACTION_DENY;
        }

        if (!interface_is_ours(interface)) {
                /* Introspection, Peer, ObjectManager, Properties.Get/GetAll
                 * read. Every property is read-only today; a writable one
                 * must get its own entry before Set is allowed. */
                if (streq(interface, "org.freedesktop.DBus.Properties") && streq(member, "Set"))
                        return SIOV_POLKIT_ACTION_DENY;
                return NULL;
        }

        for (size_t i = 0; i < ELEMENTSOF(method_actions); i++)
                if (streq(method_actions[i].interface, interface) && streq(method_actions[i].member, member))
                        return method_actions[i].action;
        return SIOV_POLKIT_ACTION_DENY;
}

const char *siov_polkit_action_description(const char *action) {
        if (!action)
                return NULL;
        if (streq(action, SIOV_POLKIT_MANAGE))
                return "create, destroy, start, stop devices";
        if (streq(action, SIOV_POLKIT_DEFINE))
                return "define, undefine, modify, import persistent device definitions";
        if (streq(action, SIOV_POLKIT_ASSIGN))
                return "assign devices to virtual machines and remove them";
        return NULL;
}

/* ---- queries ------------------------------------------------------------ */

typedef struct PolkitAnswer {
        char *action;
        char **details;         /* key, value, …; NULL when none */
        int result;             /* 1, or a negative errno with error set */
        sd_bus_error error;
} PolkitAnswer;

typedef struct PolkitQuery {
        char key[2 + 2 * sizeof(void *) + 1];   /* "0x…" of request */
        Hashmap *registry;
        sd_bus_message *request;

        sd_bus_slot *slot;      /* the CheckAuthorization in flight, or NULL */
        char *pending_action;
        char **pending_details;
        /* Merged: the same sender asking the same action with the same
         * details (and interactivity) as a query in flight waits for that
         * query's answer instead of asking polkit again. */
        struct PolkitQuery *leader;     /* whose answer this one waits for */
        struct PolkitQuery **followers; /* waiting for this one's answer */
        size_t n_followers;

        PolkitAnswer *answers;
        size_t n_answers, n_answers_allocated;

        sd_event_source *defer; /* frees the query once the loop is idle */
} PolkitQuery;

static char **details_dup(const char **details) {
        size_t n = 0;
        char **l;

        if (!details)
                return NULL;
        while (details[n])
                n++;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                l[i] = strdup(details[i]);
                if (!l[i])
                        return strv_free(l);
        }
        return l;
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

static bool details_equal(char * const *a, const char **b) {
        size_t i;

        if (!a || !*a)
                return !b || !*b;
        if (!b)
                return false;
        for (i = 0; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

static void query_detach(PolkitQuery *q) {
        if (q->leader) {
                PolkitQuery *l = q->leader;

                for (size_t i = 0; i < l->n_followers; i++)
                        if (l->followers[i] == q) {
                                l->followers[i] = l->followers[--l->n_followers];
                                break;
                        }
                q->leader = NULL;
        }
        /* Followers of a query that goes ask polkit themselves; this only
         * happens when the registry is freed. */
        for (size_t i = 0; i < q->n_followers; i++)
                q->followers[i]->leader = NULL;
        free(q->followers);
        q->followers = NULL;
        q->n_followers = 0;
}

static PolkitQuery *query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        query_detach(q);
        if (q->registry)
                (void) hashmap_remove(q->registry, q->key);
        /* Releasing the slot cancels the pending call: its callback will
         * never run with a freed userdata. */
        q->slot = sd_bus_slot_unref(q->slot);
        q->defer = sd_event_source_disable_unref(q->defer);
        q->request = sd_bus_message_unref(q->request);
        free(q->pending_action);
        strv_free(q->pending_details);
        for (size_t i = 0; i < q->n_answers; i++) {
                free(q->answers[i].action);
                strv_free(q->answers[i].details);
                sd_bus_error_free(&q->answers[i].error);
        }
        free(q->answers);
        free(q);
        return NULL;
}

static void query_free_void(void *q) {
        query_free(q);
}

static const PolkitAnswer *query_find_answer(const PolkitQuery *q, const char *action, const char **details) {
        for (size_t i = 0; i < q->n_answers; i++)
                if (streq(q->answers[i].action, action) && details_equal(q->answers[i].details, details))
                        return &q->answers[i];
        return NULL;
}

/* hint says what to do next. */
static int set_not_authorized(sd_bus_error *error, const char *action, const char *hint) {
        const char *what = siov_polkit_action_description(action);

        (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                 "Not authorized to perform %s%s%s%s: %s",
                                 action, what ? " (" : "", strempty(what), what ? ")" : "", hint);
        return -EACCES;
}

static bool error_means_no_polkit(const sd_bus_error *e) {
        static const char * const names[] = {
                SD_BUS_ERROR_SERVICE_UNKNOWN,
                SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                SD_BUS_ERROR_NO_REPLY,
                SD_BUS_ERROR_TIMEOUT,
                SD_BUS_ERROR_DISCONNECTED,
                "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
                "org.freedesktop.DBus.Error.Spawn.Failed",
                "org.freedesktop.DBus.Error.Spawn.ChildExited",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (sd_bus_error_has_name(e, names[i]))
                        return true;
        return false;
}

/* Turns polkit's reply into an answer: 1, or -EACCES with error set. */
static int answer_from_reply(sd_bus_message *reply, const char *action, bool interactive, sd_bus_error *error) {
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (error_means_no_polkit(e)) {
                        log_warning("Refusing %s: polkit is unavailable (%s).", action, e->name);
                        (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                                 "Not authorized to perform %s: polkit is unavailable (%s), "
                                                 "so only root may make changes", action, e->name);
                } else if (sd_bus_error_has_name(e, SD_BUS_ERROR_LIMITS_EXCEEDED)) {
                        (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                                 "Not authorized to perform %s: too many authorization "
                                                 "checks in flight, retry later", action);
                } else {
                        log_warning("Refusing %s: polkit failed: %s: %s", action, e->name, strempty(e->message));
                        (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                                 "Not authorized to perform %s: polkit failed: %s: %s",
                                                 action, e->name, strempty(e->message));
                }
                return -EACCES;
        }

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                         "Not authorized to perform %s: malformed polkit reply", action);
                return -EACCES;
        }
        if (authorized)
                return 1;
        if (!challenge)
                return set_not_authorized(error, action, "ask an administrator to grant it with a polkit rule");
        if (!interactive)
                return set_not_authorized(error, action, "authentication is required; "
                                          "retry allowing interactive authorization");
        return set_not_authorized(error, action, "authentication is required and did not succeed "
                                  "(no polkit agent answered, or it was cancelled)");
}

static int query_defer(sd_event_source *s, void *userdata) {
        PolkitQuery *q = userdata;

        /* The handler asked for another action: keep the answers until
         * that one arrives too. */
        if (q->slot || q->leader)
                return 0;
        query_free(q);
        return 0;
}

static int query_arm_defer(PolkitQuery *q) {
        sd_event *e = sd_bus_get_event(sd_bus_message_get_bus(q->request));
        int r;

        if (!e)
                return -ENXIO;
        if (!q->defer) {
                r = sd_event_add_defer(e, &q->defer, query_defer, q);
                if (r < 0)
                        return r;
                /* After every normal-priority source, the bus's included:
                 * the re-queued call is handled first. */
                r = sd_event_source_set_priority(q->defer, SD_EVENT_PRIORITY_IDLE);
                if (r < 0)
                        return r;
        }
        return sd_event_source_set_enabled(q->defer, SD_EVENT_ONESHOT);
}

/* Records polkit's answer for the action q waits for, and dispatches the
 * call again. */
static void query_resume(PolkitQuery *q, sd_bus_message *reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        PolkitAnswer *a;
        int r;

        /* The leader's reply is read again for each follower. */
        r = sd_bus_message_rewind(reply, true);
        if (r < 0)
                goto fail;
        if (!GREEDY_REALLOC(q->answers, q->n_answers_allocated, q->n_answers + 1)) {
                r = -ENOMEM;
                goto fail;
        }
        a = &q->answers[q->n_answers++];
        *a = (PolkitAnswer) {
                .action = TAKE_PTR(q->pending_action),
                .details = TAKE_PTR(q->pending_details),
                .error = SD_BUS_ERROR_NULL,
        };
        a->result = answer_from_reply(reply, a->action,
                                      sd_bus_message_get_allow_interactive_authorization(q->request) > 0,
                                      &a->error);
        log_debug("polkit: %s for %s: %s", a->action, strempty(sd_bus_message_get_sender(q->request)),
                  a->result > 0 ? "yes" : a->error.message);

        r = query_arm_defer(q);
        if (r < 0)
                goto fail;
        r = sd_bus_message_rewind(q->request, true);
        if (r < 0)
                goto fail;
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0)
                goto fail;
        return;

fail:
        /* Cannot dispatch the call again: answer it here, refusing. */
        log_error_errno(r, "Cannot resume a call after its polkit check: %m");
        (void) sd_bus_error_setf(&e, SIOV_ERROR_NOT_AUTHORIZED,
                                 "Authorization check failed: %s", strerror(-r));
        (void) sd_bus_reply_method_error(q->request, &e);
        query_free(q);
}

static int query_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        PolkitQuery **followers = TAKE_PTR(q->followers);
        size_t n = q->n_followers;

        /* sd-bus holds its own reference on the slot while we run. */
        q->slot = sd_bus_slot_unref(q->slot);
        q->n_followers = 0;
        for (size_t i = 0; i < n; i++)
                followers[i]->leader = NULL;

        query_resume(q, reply);
        /* The same answer for every call that waited for this one. */
        for (size_t i = 0; i < n; i++)
                query_resume(followers[i], reply);
        free(followers);
        return 1;
}

/* A query in flight whose answer q can share: same sender, action,
 * details and interactivity (one CheckAuthorization for a client that
 * sends the same call many times at once). *ret_in_flight: how many checks
 * this sender has in flight. */
static PolkitQuery *query_find_leader(Hashmap *registry, PolkitQuery *q, const char *action, const char **details,
                                      size_t *ret_in_flight) {
        const char *sender = sd_bus_message_get_sender(q->request);
        int interactive = sd_bus_message_get_allow_interactive_authorization(q->request) > 0;
        PolkitQuery *l, *found = NULL;
        size_t n = 0;

        HASHMAP_FOREACH(l, registry, i) {
                if (l == q || !l->slot || !streq_ptr(sd_bus_message_get_sender(l->request), sender))
                        continue;
                n++;
                if (!found && streq(l->pending_action, action) && details_equal(l->pending_details, details) &&
                    (sd_bus_message_get_allow_interactive_authorization(l->request) > 0) == interactive)
                        found = l;
        }
        *ret_in_flight = n;
        return found;
}

static int query_follow(PolkitQuery *q, PolkitQuery *l, const char *action, const char **details) {
        PolkitQuery **f = reallocarray(l->followers, l->n_followers + 1, sizeof(PolkitQuery *));

        if (!f)
                return -ENOMEM;
        l->followers = f;
        q->pending_action = strdup(action);
        if (!q->pending_action)
                return -ENOMEM;
        if (details) {
                q->pending_details = details_dup(details);
                if (!q->pending_details) {
                        free(TAKE_PTR(q->pending_action));
                        return -ENOMEM;
                }
        }
        l->followers[l->n_followers++] = q;
        q->leader = l;
        log_debug("polkit: %s for %s: waiting for the same check in flight",
                  action, strempty(sd_bus_message_get_sender(q->request)));
        return 0;
}

static int query_send(Hashmap *registry, PolkitQuery *q, const char *action, const char **details) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        bool interactive = sd_bus_message_get_allow_interactive_authorization(q->request) > 0;
        const char *sender = sd_bus_message_get_sender(q->request);
        PolkitQuery *leader;
        size_t in_flight;
        int r;

        leader = query_find_leader(registry, q, action, details, &in_flight);
        if (leader)
                return query_follow(q, leader, action, details);
        /* The bus lets siovd wait for a limited number of replies at once
         * (dbus-daemon: 128); one caller must not take them all. */
        if (in_flight >= SIOV_POLKIT_SENDER_MAX)
                return -EUSERS;

        r = sd_bus_message_new_method_call(bus, &m, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r < 0)
                return r;
        /* subject: the caller's unique bus name; polkit resolves it to a
         * process and user through the bus driver. */
        r = sd_bus_message_append(m, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (const char **d = details; d && *d; d += 2) {
                r = sd_bus_message_append(m, "{ss}", d[0], d[1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        /* No cancellation id: nothing cancels a check but our own exit. */
        r = sd_bus_message_append(m, "us", interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
        if (r < 0)
                return r;

        q->pending_action = strdup(action);
        if (!q->pending_action)
                return -ENOMEM;
        if (details) {
                q->pending_details = details_dup(details);
                if (!q->pending_details)
                        return -ENOMEM;
        }

        r = sd_bus_call_async(bus, &q->slot, m, query_reply, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0) {
                free(TAKE_PTR(q->pending_action));
                q->pending_details = strv_free(q->pending_details);
                return r;
        }
        log_debug("polkit: asking %s for %s%s", action, sender, interactive ? " (interactive)" : "");
        return 0;
}

/* The euid of each sender seen: asking the bus driver is a round trip per
 * call otherwise. A unique name is never reused while the bus runs and a
 * connection's credentials are fixed when it connects, so the answer
 * stays true; the table is emptied when it grows large. */
typedef struct SenderUid {
        char *name;
        uid_t euid;
} SenderUid;

static Hashmap *sender_uids;

static void sender_uid_free(void *p) {
        SenderUid *e = p;

        if (e)
                free(e->name);
        free(e);
}

static void sender_uids_clear(void) {
        sender_uids = hashmap_free(sender_uids);
}

int siov_polkit_sender_euid(sd_bus_message *call, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(call);
        SenderUid *e;
        uid_t euid;
        int r;

        e = sender ? hashmap_get(sender_uids, sender) : NULL;
        if (e) {
                *ret = e->euid;
                return 0;
        }

        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;

        if (sender && sender[0] == ':') {
                if (hashmap_size(sender_uids) >= 4096)
                        sender_uids_clear();
                e = calloc(1, sizeof(SenderUid));
                if (hashmap_ensure_allocated(&sender_uids, sender_uid_free) >= 0 && e &&
                    (e->name = strdup(sender))) {
                        e->euid = euid;
                        if (hashmap_put(sender_uids, e->name, e) >= 0)
                                e = NULL;
                }
                sender_uid_free(e);
        }
        *ret = euid;
        return 0;
}

/* 1 if the sender's effective uid is 0, 0 if not, <0 if unknown. */
static int sender_is_root(sd_bus_message *call) {
        uid_t euid;
        int r = siov_polkit_sender_euid(call, &euid);

        return r < 0 ? r : euid == 0;
}

int siov_polkit_verify(sd_bus_message *call, const char *action, const char **details,
                       Hashmap **registry, sd_bus_error *error) {
        const PolkitAnswer *a;
        PolkitQuery *q;
        char key[sizeof(q->key)];
        size_t n;
        int r;

        if (!call || isempty(action) || !registry)
                return -EINVAL;
        for (n = 0; details && details[n]; n++)
                ;
        if (n % 2 != 0)
                return -EINVAL;

        if (streq(action, SIOV_POLKIT_ACTION_DENY)) {
                const char *i = sd_bus_message_get_interface(call), *mb = sd_bus_message_get_member(call);

                log_error("%s.%s is not in the authorization table: refused.", strempty(i), strempty(mb));
                (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                         "Not authorized: %s.%s has no polkit action in siovd's table, "
                                         "so it is refused for everyone (a bug in siovd)",
                                         strempty(i), strempty(mb));
                return -EACCES;
        }

        r = sender_is_root(call);
        if (r > 0)
                return 1;
        if (r < 0) {
                (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                         "Not authorized to perform %s: cannot identify the caller: %s",
                                         action, strerror(-r));
                return -EACCES;
        }
        if (isempty(sd_bus_message_get_sender(call)))
                /* A direct connection: there is no bus name polkit could
                 * check. */
                return set_not_authorized(error, action, "the caller has no bus name polkit could check");

        (void) snprintf(key, sizeof(key), "%p", (void *) call);
        q = hashmap_get(*registry, key);
        if (q) {
                a = query_find_answer(q, action, details);
                if (a) {
                        if (a->result > 0)
                                return 1;
                        r = sd_bus_error_copy(error, &a->error);
                        return r == -ENOMEM ? r : a->result;
                }
                if (q->slot || q->leader) {
                        /* A handler that asks two actions at once: ask
                         * them one after the other. */
                        (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                                 "Not authorized to perform %s: another authorization "
                                                 "of this call is in flight", action);
                        return -EBUSY;
                }
                r = query_send(*registry, q, action, details);
                if (r < 0)
                        goto fail;
                return 0;
        }

        r = hashmap_ensure_allocated(registry, query_free_void);
        if (r < 0)
                return r;
        q = calloc(1, sizeof(PolkitQuery));
        if (!q)
                return -ENOMEM;
        memcpy(q->key, key, sizeof(key));
        q->request = sd_bus_message_ref(call);
        r = query_send(*registry, q, action, details);
        if (r < 0) {
                query_free(q);
                goto fail;
        }
        r = hashmap_put(*registry, q->key, q);
        if (r < 0) {
                query_free(q);
                return r;
        }
        q->registry = *registry;
        return 0;

fail:
        if (r == -EUSERS) {
                log_info("Refusing %s for %s: %u authorization checks of it in flight already.", action,
                         strempty(sd_bus_message_get_sender(call)), SIOV_POLKIT_SENDER_MAX);
                (void) sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                         "Too many authorization checks of this caller in flight (%u): "
                                         "retry when they are answered", SIOV_POLKIT_SENDER_MAX);
                return -EBUSY;
        }
        log_warning_errno(r, "Cannot ask polkit about %s: %m", action);
        (void) sd_bus_error_setf(error, SIOV_ERROR_NOT_AUTHORIZED,
                                 "Not authorized to perform %s: cannot ask polkit: %s", action, strerror(-r));
        return -EACCES;
}

int siov_polkit_verify_method(sd_bus_message *call, const char **details, Hashmap **registry,
                              sd_bus_error *error) {
        const char *action;

        if (!call)
                return -EINVAL;
        action = siov_polkit_action_for(sd_bus_message_get_interface(call), sd_bus_message_get_member(call));
        if (!action)
                return 1;
        return siov_polkit_verify(call, action, details, registry, error);
}

bool siov_polkit_call_waiting(Hashmap *registry, sd_bus_message *call) {
        char key[sizeof(((PolkitQuery *) NULL)->key)];
        PolkitQuery *q;

        (void) snprintf(key, sizeof(key), "%p", (void *) call);
        q = registry ? hashmap_get(registry, key) : NULL;
        return q && (q->slot || q->leader);
}

Hashmap *siov_polkit_registry_free(Hashmap *registry) {
        sender_uids_clear();
        /* The registry owns its queries (query_free_void). */
        return hashmap_free(registry);
}
