/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "definitions.h"
#include "device.h"
#include "log.h"
#include "siov-names.h"

static const char * const definitions_properties[] = { "DefinitionsProblem", NULL };
static const char * const skipped_properties[] = { "SkippedDefinitions", NULL };
static const char * const refused_properties[] = { "RefusedChanges", NULL };

static void emit(Manager *m, const char * const *names) {
        manager_emit_changed(m, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, (char **) names);
}

static bool stamp_equal(const siov_definition_stamp *a, const siov_definition_stamp *b) {
        return a->size == b->size && a->hash == b->hash;
}

static int bus_error_extend(sd_bus_error *error, bool prefix, const char *fmt, va_list ap) {
        _cleanup_free_ char *name = NULL, *more = NULL, *msg = NULL;

        if (!error || !sd_bus_error_is_set(error))
                return 0;
        if (vasprintf(&more, fmt, ap) < 0)
                return -ENOMEM;
        name = strdup(error->name);
        if (!name || asprintf(&msg, "%s: %s", prefix ? more : strempty(error->message),
                              prefix ? strempty(error->message) : more) < 0)
                return -ENOMEM;
        sd_bus_error_free(error);
        return sd_bus_error_set(error, name, msg);
}

int bus_error_append(sd_bus_error *error, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = bus_error_extend(error, false, fmt, ap);
        va_end(ap);
        return r;
}

int bus_error_prefix(sd_bus_error *error, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = bus_error_extend(error, true, fmt, ap);
        va_end(ap);
        return r;
}

/* ---- what was refused, for `siovctl status` -------------------------- */

void definitions_note_refusal(Manager *m, const char *uuid, const char *reason) {
        RefusedChange *c;
        struct timespec ts;

        log_warning("Refused a change of the definition of %s: %s", strempty(uuid), strempty(reason));
        if (m->n_refusals == DEFINITIONS_REFUSALS_MAX) {
                /* oldest out */
                free(m->refusals[0].uuid);
                free(m->refusals[0].reason);
                memmove(m->refusals, m->refusals + 1, (DEFINITIONS_REFUSALS_MAX - 1) * sizeof(RefusedChange));
                m->n_refusals--;
        }
        c = &m->refusals[m->n_refusals];
        clock_gettime(CLOCK_REALTIME, &ts);
        *c = (RefusedChange) {
                .usec = (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u,
                .uuid = strdup(strempty(uuid)),
                .reason = strdup(strempty(reason)),
        };
        if (!c->uuid || !c->reason) {
                free(c->uuid);
                free(c->reason);
                return;
        }
        m->n_refusals++;
        emit(m, refused_properties);
}

static int refuse(Manager *m, sd_bus_error *error, const char *name, const char *uuid, const char *fmt, ...)
        _printf_(5, 6);
static int refuse(Manager *m, sd_bus_error *error, const char *name, const char *uuid, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        definitions_note_refusal(m, uuid, msg);
        return sd_bus_error_set(error, name, msg);
}

/* ---- skipped files ---------------------------------------------------- */

static SkippedDefinition *skipped_free(SkippedDefinition *s) {
        if (s) {
                free(s->name);
                free(s->path);
                free(s->reason);
                free(s);
        }
        return NULL;
}

static void skipped_clear(Hashmap *h) {
        SkippedDefinition *s;

        HASHMAP_FOREACH(s, h, i)
                skipped_free(s);
        hashmap_free(h);
}

static const char *base_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* true when the table changed */
static bool skipped_set(Hashmap *h, const char *path, const char *reason) {
        SkippedDefinition *s = hashmap_get(h, base_name(path));

        if (s && streq(s->reason, reason))
                return false;
        if (s) {
                char *r = strdup(reason);
                if (!r)
                        return false;
                free(s->reason);
                s->reason = r;
                return true;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return false;
        s->name = strdup(base_name(path));
        s->path = strdup(path);
        s->reason = strdup(reason);
        if (!s->name || !s->path || !s->reason || hashmap_put(h, s->name, s) < 0) {
                skipped_free(s);
                return false;
        }
        return true;
}

static bool skipped_remove(Hashmap *h, const char *name) {
        SkippedDefinition *s = hashmap_remove(h, name);

        skipped_free(s);
        return !!s;
}

/* ---- the folder ------------------------------------------------------- */

/* Re-checks the folder and says so when its state changed. */
static int check_folder(Manager *m) {
        _cleanup_free_ char *reason = NULL;
        int r;

        r = siov_definition_store_check(m->definitions_dir, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !reason)
                reason = strdup(strerror(-r));
        if (r < 0 && (!m->definitions_problem || !streq(m->definitions_problem, strempty(reason)))) {
                log_warning("Definitions folder unusable: %s. Running degraded: reads and transient devices "
                            "work, persistent changes are refused until it is fixed.", strempty(reason));
                free(m->definitions_problem);
                m->definitions_problem = TAKE_PTR(reason);
                emit(m, definitions_properties);
        } else if (r >= 0 && m->definitions_problem) {
                log_info("Definitions folder %s is usable again.", m->definitions_dir);
                free(m->definitions_problem);
                m->definitions_problem = NULL;
                emit(m, definitions_properties);
        }
        return r;
}

static void watch_start(Manager *m);

static int on_deferred(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char **uuids = NULL;
        bool all = m->definitions_reload_all;
        size_t n = 0;
        char *uuid;

        m->definitions_defer = sd_event_source_unref(m->definitions_defer);
        m->definitions_reload_all = false;
        uuids = calloc(hashmap_size(m->dirty_definitions) + 1, sizeof(char *));
        if (!uuids)
                return log_oom();
        HASHMAP_FOREACH(uuid, m->dirty_definitions, i)
                uuids[n++] = uuid;
        for (size_t i = 0; i < n; i++)
                hashmap_remove(m->dirty_definitions, uuids[i]);
        if (!m->definitions_watch)
                watch_start(m);
        if (all) {
                (void) check_folder(m);
                (void) definitions_load_all(m);
        }
        for (size_t i = 0; i < n; i++) {
                if (!all)
                        definitions_reload_one(m, uuids[i]);
                free(uuids[i]);
        }
        return 0;
}

static void schedule(Manager *m) {
        int r;

        if (m->definitions_defer)
                return;
        r = sd_event_add_defer(m->event, &m->definitions_defer, on_deferred, m);
        if (r < 0) {
                log_warning_errno(r, "Cannot schedule a re-read of the definitions: %m");
                return;
        }
        (void) sd_event_source_set_priority(m->definitions_defer, SIOV_PRIORITY_REFRESH);
}

static void mark_dirty(Manager *m, const char *uuid) {
        char *s;

        if (hashmap_get(m->dirty_definitions, uuid))
                return schedule(m);
        s = strdup(uuid);
        if (!s || hashmap_put(m->dirty_definitions, s, s) < 0) {
                free(s);
                m->definitions_reload_all = true;
        }
        schedule(m);
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;
        char uuid[SIOV_UUID_STRING_MAX];

        if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
                /* The folder itself went (or events were lost): read it all
                 * again, and watch whatever is at its path next. */
                if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
                        m->definitions_watch = sd_event_source_disable_unref(m->definitions_watch);
                m->definitions_reload_all = true;
                schedule(m);
                return 0;
        }
        if (ev->len == 0 || ev->name[0] == '.')
                return 0;       /* temporary files, siovd's and editors' */
        if (siov_definition_file_name(ev->name, uuid))
                mark_dirty(m, uuid);
        else {
                /* a foreign file: listed as skipped */
                m->definitions_reload_all = true;
                schedule(m);
        }
        return 0;
}

static void watch_start(Manager *m) {
        int r;

        if (m->definitions_watch)
                return;
        r = sd_event_add_inotify(m->event, &m->definitions_watch, m->definitions_dir,
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
                                 IN_MOVE_SELF | IN_ONLYDIR, on_inotify, m);
        if (r < 0) {
                m->definitions_watch = NULL;
                log_debug_errno(r, "Not watching %s: %m", m->definitions_dir);
                return;
        }
        (void) sd_event_source_set_priority(m->definitions_watch, SIOV_PRIORITY_REFRESH);
}

static void on_clean(const char *path, int r, void *userdata) {
        if (r < 0)
                log_warning_errno(r, "Cannot remove the stale temporary file %s: %m", path);
        else
                log_info("Removed %s, a temporary file left by an interrupted save.", path);
}

void definitions_startup(Manager *m) {
        int r;

        r = check_folder(m);
        if (r >= 0) {
                /* (degraded: said by check_folder(); nothing can be removed) */
                r = siov_definition_store_clean(m->definitions_dir, on_clean, NULL);
                if (r < 0)
                        log_warning_errno(r, "Cannot look for stale temporary files in %s: %m",
                                          m->definitions_dir);
        }
        /* A read-only folder is still watched: edits by hand are loaded. */
        watch_start(m);
}

void definitions_free(Manager *m) {
        char *uuid;

        m->definitions_watch = sd_event_source_disable_unref(m->definitions_watch);
        m->definitions_defer = sd_event_source_unref(m->definitions_defer);
        if (m->dirty_definitions) {
                HASHMAP_FOREACH(uuid, m->dirty_definitions, i)
                        free(uuid);
                hashmap_free(m->dirty_definitions);
        }
        if (m->skipped_definitions)
                skipped_clear(m->skipped_definitions);
        for (size_t i = 0; i < m->n_refusals; i++) {
                free(m->refusals[i].uuid);
                free(m->refusals[i].reason);
        }
        free(m->definitions_problem);
}

/* ---- loading ---------------------------------------------------------- */

/* One loaded definition: the device follows it (a new one, a changed one;
 * the same bytes again change nothing). */
static void adopt(Manager *m, struct siov_definition *def, const siov_definition_stamp *stamp) {
        const char *uuid = siov_definition_get_uuid(def);
        Device *d = hashmap_get(m->devices, uuid);
        int r;

        if (d && d->persistent && stamp_equal(&d->stamp, stamp))
                return;
        if (d) {
                if (device_is_active(d) && (!streq(device_get_parent(d), siov_definition_get_parent(def)) ||
                                            !streq(device_get_type(d), siov_definition_get_type(def))))
                        /* sysfs wins for what exists; the definition is kept for
                         * the next start, and the mismatch is said. */
                        log_warning("Device %s is active as %s on %s but defined as %s on %s.",
                                    uuid, device_get_type(d), device_get_parent(d),
                                    siov_definition_get_type(def), siov_definition_get_parent(def));
                if (!d->persistent || !siov_definition_equal(d->spec, def))
                        device_set_spec(d, def, true);
                d->stamp = *stamp;
                return;
        }
        r = device_new_defined(m, def, &d);
        if (r < 0) {
                log_warning_errno(r, "Cannot track definition %s: %m", uuid);
                return;
        }
        d->stamp = *stamp;
        manager_emit_added(m, DEVICE_PATH(d));
}

static bool folder_readable(const char *dir) {
        struct stat st;

        return stat(dir, &st) >= 0 && S_ISDIR(st.st_mode) &&
                faccessat(AT_FDCWD, dir, R_OK | X_OK, AT_EACCESS) >= 0;
}

/* The definition of a persistent device cannot be loaded any more (gone,
 * or edited into something siovd refuses): the device is what it would be
 * after a restart. */
static void drop(Device *d, const char *why) {
        log_info("Device %s is no longer defined: %s.", d->uuid, why);
        device_set_spec(d, NULL, false);
}

void definitions_reload_one(Manager *m, const char *uuid) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
        _cleanup_free_ char *reason = NULL, *path = NULL;
        siov_definition_stamp stamp = {};
        char name[SIOV_UUID_STRING_MAX + 8];
        Device *d;
        int r;

        r = siov_definition_store_load_one(m->definitions_dir, uuid, &def, &stamp, &reason);
        if (r == -ENOMEM) {
                log_oom();
                return;
        }
        snprintf(name, sizeof(name), "%s.json", uuid);
        d = hashmap_get(m->devices, uuid);
        if (r == 1) {
                if (skipped_remove(m->skipped_definitions, name))
                        emit(m, skipped_properties);
                adopt(m, def, &stamp);
                return;
        }
        if (r == 0) {
                if (skipped_remove(m->skipped_definitions, name))
                        emit(m, skipped_properties);
                if (d && d->persistent)
                        drop(d, "its file was removed by hand");
                return;
        }
        if (!folder_readable(m->definitions_dir)) {
                /* The folder, not the file: keep what is known (degraded). */
                (void) check_folder(m);
                return;
        }
        if (asprintf(&path, "%s/%s", m->definitions_dir, name) < 0) {
                log_oom();
                return;
        }
        log_warning("Ignoring definition %s: %s", path, strempty(reason));
        if (skipped_set(m->skipped_definitions, path, strempty(reason)))
                emit(m, skipped_properties);
        if (d && d->persistent)
                drop(d, "its file was changed by hand and cannot be loaded (see siovctl status)");
}

typedef struct LoadAll {
        Manager *manager;
        Hashmap *skipped;
        Hashmap *seen;          /* uuid → Device kept persistent */
} LoadAll;

static void on_loaded(const char *path, const char *uuid, struct siov_definition *def,
                      const siov_definition_stamp *stamp, const char *reason, void *userdata) {
        LoadAll *a = userdata;
        Device *d;

        if (!def) {
                /* Reported and skipped, never deleted: it may be an admin's
                 * file in the making, or a newer siovd's. */
                if (!hashmap_get(a->manager->skipped_definitions, base_name(path)) ||
                    !streq(((SkippedDefinition *) hashmap_get(a->manager->skipped_definitions,
                                                              base_name(path)))->reason, reason))
                        log_warning("Ignoring definition %s: %s", path, reason);
                (void) skipped_set(a->skipped, path, reason);
                return;
        }
        adopt(a->manager, def, stamp);
        d = hashmap_get(a->manager->devices, uuid);
        if (d && d->persistent)
                (void) hashmap_put(a->seen, d->uuid, d);
}

static bool skipped_equal(Hashmap *a, Hashmap *b) {
        SkippedDefinition *s, *t;

        if (hashmap_size(a) != hashmap_size(b))
                return false;
        HASHMAP_FOREACH(s, a, i) {
                t = hashmap_get(b, s->name);
                if (!t || !streq(s->reason, t->reason))
                        return false;
        }
        return true;
}

static bool persistent_may_be_gone(Manager *m, size_t n_seen) {
        size_t n = 0;

        for (int k = 0; k < 2; k++)
                n += m->device_counts[DEVICE_STATE_DEFINED][k] + m->device_counts[DEVICE_STATE_BOTH][k] +
                     m->device_counts[DEVICE_STATE_REMOVING][k];
        return n_seen < n;
}

int definitions_load_all(Manager *m) {
        _cleanup_free_ Device **dropped = NULL;
        LoadAll a = { .manager = m };
        size_t n_dropped = 0;
        Device *d;
        int r;

        (void) check_folder(m);
        a.skipped = hashmap_new(NULL);
        a.seen = hashmap_new(NULL);
        if (!a.skipped || !a.seen) {
                hashmap_free(a.seen);
                if (a.skipped)
                        skipped_clear(a.skipped);
                return log_oom();
        }
        r = siov_definition_store_load(m->definitions_dir, on_loaded, &a);
        if (r < 0) {
                /* Unreadable now: keep what is known rather than dropping
                 * every definition; degraded until it is fixed. */
                (void) check_folder(m);
                log_warning_errno(r, "Cannot read definitions in %s: %m", m->definitions_dir);
                hashmap_free(a.seen);
                skipped_clear(a.skipped);
                return 0;
        }

        /* Persistent devices whose file went away (removed by hand) or can
         * no longer be loaded. Every persistent device is counted as
         * defined, both or removing: when as many were seen, none went,
         * and the devices are not walked. */
        dropped = persistent_may_be_gone(m, hashmap_size(a.seen)) ?
                calloc(hashmap_size(m->devices) + 1, sizeof(Device *)) : NULL;
        if (dropped) {
                HASHMAP_FOREACH(d, m->devices, i)
                        if (d->persistent && !hashmap_get(a.seen, d->uuid))
                                dropped[n_dropped++] = d;
                for (size_t i = 0; i < n_dropped; i++)
                        drop(dropped[i], "its file is gone or cannot be loaded");
        }
        hashmap_free(a.seen);

        if (!skipped_equal(a.skipped, m->skipped_definitions)) {
                skipped_clear(m->skipped_definitions);
                m->skipped_definitions = a.skipped;
                emit(m, skipped_properties);
        } else
                skipped_clear(a.skipped);
        if (!m->definitions_watch)
                watch_start(m);
        return 0;
}

/* ---- changes ---------------------------------------------------------- */

int definitions_check_writable(Manager *m, const char *uuid, sd_bus_error *error) {
        int r;

        r = check_folder(m);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return refuse(m, error, SIOV_ERROR_DEFINITIONS_UNAVAILABLE, uuid,
                              "the definitions folder is unusable: %s; siovd runs degraded and refuses "
                              "persistent changes until it is fixed (then Rescan)", m->definitions_problem);
        return 0;
}

int definitions_check_limits(Manager *m, const struct siov_definition *def, sd_bus_error *error) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = siov_definition_check(def, NULL, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return refuse(m, error, SIOV_ERROR_INVALID_ARGUMENT, siov_definition_get_uuid(def),
                              "%s", msg ?: strerror(-r));
        return 0;
}

/* Why <uuid>.json is not siovd's to change, for the message: the loader's
 * reason, or that it was not loaded yet. Also queues a re-read so the
 * objects and `siovctl status` catch up right after this call. */
static char *explain(Manager *m, const char *uuid) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
        _cleanup_free_ char *reason = NULL;
        siov_definition_stamp stamp;
        char *s = NULL;
        int r;

        mark_dirty(m, uuid);
        r = siov_definition_store_load_one(m->definitions_dir, uuid, &def, &stamp, &reason);
        if (r == 1)
                s = strdup("it is not the file siovd loaded (it appeared or changed since); Rescan to load it, "
                           "or move it away");
        else if (r < 0 && reason)
                (void) asprintf(&s, "siovd cannot load it (%s); fix it or move it away", reason);
        return s;
}

static int store_error(Manager *m, const char *uuid, int r, const char *msg, const char *what,
                       sd_bus_error *error) {
        _cleanup_free_ char *why = NULL;

        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG || r == -EINVAL)
                return refuse(m, error, SIOV_ERROR_INVALID_ARGUMENT, uuid, "%s", strempty(msg));
        if (r == -EEXIST) {
                why = explain(m, uuid);
                return refuse(m, error, SIOV_ERROR_ALREADY_EXISTS, uuid, "%s not %s: %s%s%s", uuid, what,
                              strempty(msg), why ? "; " : "", strempty(why));
        }
        if (r == -ENOENT) {
                mark_dirty(m, uuid);
                return refuse(m, error, SIOV_ERROR_NO_SUCH_DEVICE, uuid, "%s not %s: %s", uuid, what,
                              strempty(msg));
        }
        (void) check_folder(m);
        return refuse(m, error, SIOV_ERROR_DEFINITIONS_UNAVAILABLE, uuid, "%s not %s: %s", uuid, what,
                      msg ?: strerror(-r));
}

int definitions_save(Manager *m, const struct siov_definition *def, const siov_definition_stamp *expected,
                     siov_definition_stamp *ret, sd_bus_error *error) {
        _cleanup_free_ char *msg = NULL;
        const char *uuid = siov_definition_get_uuid(def);
        int r;

        r = definitions_check_writable(m, uuid, error);
        if (r < 0)
                return r;
        r = siov_definition_store_save(m->definitions_dir, def, expected && expected->size ? expected : NULL,
                                       ret, &msg);
        if (r < 0)
                return store_error(m, uuid, r, msg, "saved", error);
        if (!m->definitions_watch)
                watch_start(m);         /* the first save made the folder */
        return 0;
}

/* Removes (or, verify_only, checks) the file while it holds expected. */
static int delete_or_verify(Manager *m, const char *uuid, const siov_definition_stamp *expected, bool verify_only,
                            sd_bus_error *error) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = definitions_check_writable(m, uuid, error);
        if (r < 0)
                return r;
        if (!expected || !expected->size)
                return 0;       /* siovd wrote nothing there */
        r = verify_only ? siov_definition_store_verify(m->definitions_dir, uuid, expected, &msg) :
                siov_definition_store_delete(m->definitions_dir, uuid, expected, &msg);
        if (r == -ENOENT)
                return 0;       /* gone already: what was asked */
        if (r < 0)
                return store_error(m, uuid, r, msg, verify_only ? "changed" : "undefined", error);
        return 0;
}

int definitions_delete(Manager *m, const char *uuid, const siov_definition_stamp *expected, sd_bus_error *error) {
        return delete_or_verify(m, uuid, expected, false, error);
}

int definitions_verify(Manager *m, const char *uuid, const siov_definition_stamp *expected, sd_bus_error *error) {
        return delete_or_verify(m, uuid, expected, true, error);
}

void definitions_rollback(Manager *m, const char *uuid, const siov_definition_stamp *written, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (!written || !written->size)
                return;
        if (definitions_delete(m, uuid, written, &e) >= 0)
                return;
        log_error("Rolling back the definition of %s failed: %s", uuid, e.message);
        (void) bus_error_append(error, "its definition %s/%s.json was written and could not be removed again: %s",
                                m->definitions_dir, uuid, e.message);
}

/* ---- bus ---------------------------------------------------------------- */

static int cmp_skipped(const void *a, const void *b) {
        return strcmp((*(SkippedDefinition * const *) a)->name, (*(SkippedDefinition * const *) b)->name);
}

int definitions_append_skipped(Manager *m, sd_bus_message *reply) {
        _cleanup_free_ SkippedDefinition **l = NULL;
        SkippedDefinition *s;
        size_t n = 0;
        int r;

        l = calloc(hashmap_size(m->skipped_definitions) + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        HASHMAP_FOREACH(s, m->skipped_definitions, i)
                l[n++] = s;
        qsort(l, n, sizeof(*l), cmp_skipped);
        r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(reply, "(ss)", l[i]->path, l[i]->reason);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int definitions_append_refusals(Manager *m, sd_bus_message *reply) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(tss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_refusals; i++) {
                r = sd_bus_message_append(reply, "(tss)", m->refusals[i].usec, m->refusals[i].uuid,
                                          m->refusals[i].reason);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}
