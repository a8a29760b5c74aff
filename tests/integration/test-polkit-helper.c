/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal sd-bus service that guards its methods with daemon/polkit.c, so
 * that test-polkit-helper.sh can check the module against a real polkitd
 * with root and unprivileged callers, independently of siovd's methods.
 *
 *   test-polkit-helper                 serve org.siov1 on the system bus
 *                                      (DBUS_SYSTEM_BUS_ADDRESS), object
 *                                      /org/siov1, interface org.siov1.PolkitTest
 *   test-polkit-helper action-for IFACE MEMBER
 *                                      print siov_polkit_action_for() ("-"
 *                                      for NULL), then its description
 *
 * Guarded methods answer with how many times their handler ran for that
 * call: 1 for root (no polkit), 1 + the number of actions asked otherwise.
 * More would mean an answer was lost and polkit asked again.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hashmap.h"
#include "log.h"
#include "polkit.h"
#include "siov-errors.h"
#include "siov-names.h"

#define TEST_INTERFACE "org.siov1.PolkitTest"

static Hashmap *registry;       /* polkit queries */
static Hashmap *runs;           /* "%p" of a call → struct run */

struct run {
        char key[2 + 2 * sizeof(void *) + 1];
        unsigned n;
};

/* Counts a handler run for this call; the count is dropped once the call
 * gets its answer (finish_run). */
static unsigned count_run(sd_bus_message *m) {
        char key[sizeof(((struct run *) NULL)->key)];
        struct run *r;

        (void) snprintf(key, sizeof(key), "%p", (void *) m);
        r = hashmap_get(runs, key);
        if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r)
                        abort();
                memcpy(r->key, key, sizeof(key));
                if (hashmap_put(runs, r->key, r) < 0)
                        abort();
        }
        return ++r->n;
}

static void finish_run(sd_bus_message *m) {
        char key[sizeof(((struct run *) NULL)->key)];

        (void) snprintf(key, sizeof(key), "%p", (void *) m);
        free(hashmap_remove(runs, key));
}

/* The common tail: r from siov_polkit_verify(). */
static int finish(sd_bus_message *m, int r, unsigned n) {
        if (r == 0)
                return 1;       /* polkit asked: the call comes back */
        finish_run(m);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "u", n);
}

static int method_guarded(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *action;
        unsigned n = count_run(m);
        int r;

        r = sd_bus_message_read(m, "s", &action);
        if (r < 0)
                return finish(m, r, n);
        r = siov_polkit_verify(m, action, NULL, &registry, error);
        return finish(m, r, n);
}

static int method_guarded_two(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *a1, *a2;
        unsigned n = count_run(m);
        int r;

        r = sd_bus_message_read(m, "ss", &a1, &a2);
        if (r < 0)
                return finish(m, r, n);
        r = siov_polkit_verify(m, a1, NULL, &registry, error);
        if (r > 0)
                r = siov_polkit_verify(m, a2, NULL, &registry, error);
        return finish(m, r, n);
}

static int method_guarded_details(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *action, *key, *value;
        unsigned n = count_run(m);
        int r;

        r = sd_bus_message_read(m, "sss", &action, &key, &value);
        if (r < 0)
                return finish(m, r, n);
        r = siov_polkit_verify(m, action, (const char *[]) { key, value, NULL }, &registry, error);
        return finish(m, r, n);
}

/* Guarded by the table: the action of org.siov1.Manager.<member>. */
static int method_guarded_as(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *interface, *member, *action;
        unsigned n = count_run(m);
        int r;

        r = sd_bus_message_read(m, "ss", &interface, &member);
        if (r < 0)
                return finish(m, r, n);
        action = siov_polkit_action_for(interface, member);
        r = action ? siov_polkit_verify(m, action, NULL, &registry, error) : 1;
        return finish(m, r, n);
}

static int method_ping(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", "pong");
}

/* Queries alive in the registry: 0 once every call got its answer. */
static int method_pending(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "uu", (uint32_t) hashmap_size(registry),
                                          (uint32_t) hashmap_size(runs));
}

static const sd_bus_vtable test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Guarded", SD_BUS_ARGS("s", action), SD_BUS_RESULT("u", runs),
                                method_guarded, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GuardedTwo", SD_BUS_ARGS("s", first, "s", second), SD_BUS_RESULT("u", runs),
                                method_guarded_two, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GuardedDetails", SD_BUS_ARGS("s", action, "s", key, "s", value),
                                SD_BUS_RESULT("u", runs), method_guarded_details, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GuardedAs", SD_BUS_ARGS("s", interface, "s", member), SD_BUS_RESULT("u", runs),
                                method_guarded_as, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Ping", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", pong),
                                method_ping, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Pending", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", queries, "u", calls),
                                method_pending, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int serve(void) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        struct run *run;
        sigset_t mask;
        int r;

        (void) siov_errors_register();
        runs = hashmap_new(free);
        if (!runs)
                return log_oom();

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "sigprocmask: %m");

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "sd_event_default: %m");
        r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "sd_event_add_signal: %m");

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        r = sd_bus_add_object_vtable(bus, NULL, SIOV_DBUS_PATH, TEST_INTERFACE, test_vtable, NULL);
        if (r < 0)
                return log_error_errno(r, "sd_bus_add_object_vtable: %m");
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "sd_bus_attach_event: %m");
        r = sd_bus_request_name(bus, SIOV_DBUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot own %s: %m", SIOV_DBUS_NAME);

        r = sd_event_loop(event);

        /* Exit with queries in flight: the registry must cancel them. */
        log_info("Exiting with %zu polkit queries alive.", hashmap_size(registry));
        registry = siov_polkit_registry_free(registry);
        while (hashmap_size(runs) > 0) {
                size_t i = 0;

                if (!hashmap_iterate(runs, &i, (void **) &run))
                        break;
                free(hashmap_remove(runs, run->key));
        }
        runs = hashmap_free(runs);
        return r < 0 ? log_error_errno(r, "Event loop failed: %m") : 0;
}

int main(int argc, char *argv[]) {
        log_setup("test-polkit-helper", LOG_TARGET_AUTO);
        if (argc == 4 && streq(argv[1], "action-for")) {
                const char *a = siov_polkit_action_for(streq(argv[2], "-") ? NULL : argv[2], argv[3]);

                printf("%s\n%s\n", a ?: "-", strempty(siov_polkit_action_description(a)));
                return EXIT_SUCCESS;
        }
        if (argc != 1) {
                fprintf(stderr, "Usage: %s [action-for INTERFACE|- MEMBER]\n", argv[0]);
                return EXIT_FAILURE;
        }
        return serve() < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
