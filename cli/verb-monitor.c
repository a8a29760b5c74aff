/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * siovctl monitor: siovd's signals as they arrive, one line each (or one
 * JSON object per line). The matches are installed synchronously before
 * the "# monitoring" line, so nothing after that line is missed. Values
 * are decoded generically from their D-Bus signature: a property siovd adds
 * later shows without a change here.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "siov-names.h"
#include "siovctl.h"

#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_INTERFACE     "org.freedesktop.DBus.Properties"

typedef enum ObjectKind {
        OBJECT_NONE,
        OBJECT_DEVICE,
        OBJECT_PARENT,
        OBJECT_TYPE,
        OBJECT_MANAGER,
} ObjectKind;

static const char * const object_kind_names[] = {
        [OBJECT_DEVICE] = "device",
        [OBJECT_PARENT] = "parent",
        [OBJECT_TYPE] = "type",
        [OBJECT_MANAGER] = "manager",
};

static ObjectKind object_kind_from_interface(const char *interface) {
        if (streq(interface, SIOV_DBUS_DEVICE_INTERFACE))
                return OBJECT_DEVICE;
        if (streq(interface, SIOV_DBUS_PARENT_INTERFACE))
                return OBJECT_PARENT;
        if (streq(interface, SIOV_DBUS_TYPE_INTERFACE))
                return OBJECT_TYPE;
        if (streq(interface, SIOV_DBUS_MANAGER_INTERFACE))
                return OBJECT_MANAGER;
        return OBJECT_NONE;
}

/* ---- reading values ------------------------------------------------------ */

/* Any basic value, as sd_bus_message_read_basic() stores it. */
typedef union BasicValue {
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        double d;
        int b;
        const char *s;
} BasicValue;

/* A value of the integer types that fit int64_t, widened ('t' does not). */
static bool basic_to_int64(char type, const BasicValue *v, int64_t *ret) {
        switch (type) {
        case 'y':
                *ret = v->u8;
                return true;
        case 'n':
                *ret = v->i16;
                return true;
        case 'q':
                *ret = v->u16;
                return true;
        case 'i':
                *ret = v->i32;
                return true;
        case 'u':
                *ret = v->u32;
                return true;
        case 'x':
                *ret = v->i64;
                return true;
        default:
                return false;
        }
}

/* The type of the next value; -EBADMSG when the container has ended. */
static int peek_value(sd_bus_message *m, char *ret_type, const char **ret_contents) {
        int r;

        r = sd_bus_message_peek_type(m, ret_type, ret_contents);
        if (r < 0)
                return r;
        return r == 0 ? -EBADMSG : 0;
}

/* Enters the next value, a container (a dictionary entry). */
static int enter_next(sd_bus_message *m) {
        const char *contents;
        char type;
        int r;

        r = peek_value(m, &type, &contents);
        if (r < 0)
                return r;
        return sd_bus_message_enter_container(m, type, contents);
}

/* ---- values as text ------------------------------------------------------ */

/* A string as one token: bare when it is plain, else quoted with C escapes
 * (a VM name or a description may hold anything). */
static void print_string(FILE *f, const char *s) {
        bool plain = !isempty(s);

        for (const char *p = s; plain && *p; p++)
                if ((unsigned char) *p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
                        plain = false;
        if (plain) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < ' ' || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static int basic_to_text(sd_bus_message *m, char type, FILE *f) {
        BasicValue v;
        int64_t i;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        if (basic_to_int64(type, &v, &i)) {
                fprintf(f, "%lld", (long long) i);
                return 0;
        }
        switch (type) {
        case 's': case 'o': case 'g':
                print_string(f, v.s);
                break;
        case 'b':
                fputs(v.b ? "true" : "false", f);
                break;
        case 't':
                fprintf(f, "%llu", (unsigned long long) v.u64);
                break;
        case 'd':
                fprintf(f, "%g", v.d);
                break;
        case 'h':
                fputs("(fd)", f);
                break;
        default:
                return -EBADMSG;
        }
        return 0;
}

/* The next complete value: [a,b] for arrays, {k=v,...} for dictionaries,
 * name=value for the a(ss) attribute pairs, (a,b) for structs. */
static int value_to_text(sd_bus_message *m, FILE *f) {
        const char *contents;
        char type;
        int r;

        r = peek_value(m, &type, &contents);
        if (r < 0)
                return r;

        switch (type) {
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = value_to_text(m, f);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                return r;

        case 'a':
        case 'r': {
                /* A struct is a list of its members. */
                bool dict = type == 'a' && contents[0] == '{', pairs = type == 'a' && streq(contents, "(ss)");
                const char *brackets = type == 'r' ? "()" : dict ? "{}" : "[]";
                bool first = true;

                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                fputc(brackets[0], f);
                while ((r = sd_bus_message_at_end(m, false)) == 0) {
                        if (!first)
                                fputc(',', f);
                        first = false;
                        if (dict || pairs) {
                                r = enter_next(m);
                                if (r < 0)
                                        return r;
                                r = value_to_text(m, f);
                                if (r < 0)
                                        return r;
                                fputc('=', f);
                                r = value_to_text(m, f);
                                if (r < 0)
                                        return r;
                                r = sd_bus_message_exit_container(m);
                        } else
                                r = value_to_text(m, f);
                        if (r < 0)
                                return r;
                }
                if (r < 0)
                        return r;
                fputc(brackets[1], f);
                return sd_bus_message_exit_container(m);
        }

        default:
                return basic_to_text(m, type, f);
        }
}

/* ---- values as JSON ------------------------------------------------------ */

/* "AvailableInstances" → "available_instances", "VM" → "vm",
 * "TotalVFs" → "total_vfs": the keys of `list --json`. */
static char *snake_case(const char *s) {
        char *out, *p;

        out = p = malloc(strlen(s) * 2 + 1);
        if (!out)
                return NULL;
        for (const char *q = s; *q; q++) {
                if (*q >= 'A' && *q <= 'Z') {
                        if (q > s && ((q[-1] >= 'a' && q[-1] <= 'z') || (q[-1] >= '0' && q[-1] <= '9')))
                                *p++ = '_';
                        *p++ = *q - 'A' + 'a';
                } else
                        *p++ = *q == '-' ? '_' : *q;
        }
        *p = 0;
        return out;
}

static json_object *basic_to_json(sd_bus_message *m, char type, int *error) {
        BasicValue v;
        int64_t i;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0) {
                *error = r;
                return NULL;
        }
        *error = -ENOMEM;
        if (basic_to_int64(type, &v, &i))
                return json_object_new_int64(i);
        switch (type) {
        case 's': case 'o': case 'g':
                return json_object_new_string(v.s);
        case 'b':
                return json_object_new_boolean(v.b);
        case 't':
                return json_object_new_uint64(v.u64);
        case 'd':
                return json_object_new_double(v.d);
        case 'h':
                return json_object_new_null();
        default:
                *error = -EBADMSG;
                return NULL;
        }
}

/* Adds v to the array or object o (key: k, NULL for arrays); consumes v. */
static int json_put(json_object *o, const char *k, json_object *v) {
        int r;

        if (!v)
                return -ENOMEM;
        r = k ? json_object_object_add(o, k, v) : json_object_array_add(o, v);
        if (r < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* The next complete value. Dictionaries become objects (keys snake_case,
 * as in `list --json`), the a(ss) attribute pairs [{"name", "value"}],
 * other arrays and structs arrays. */
static int value_to_json(sd_bus_message *m, json_object **ret) {
        json_object *o = NULL;
        const char *contents;
        char type;
        int r;

        r = peek_value(m, &type, &contents);
        if (r < 0)
                return r;

        switch (type) {
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = value_to_json(m, &o);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                break;

        case 'a':
        case 'r': {
                /* A struct is an array of its members. */
                bool dict = type == 'a' && contents[0] == '{', pairs = type == 'a' && streq(contents, "(ss)");

                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                o = dict ? json_object_new_object() : json_object_new_array();
                if (!o)
                        return -ENOMEM;
                while ((r = sd_bus_message_at_end(m, false)) == 0) {
                        if (pairs) {
                                const char *k, *v;
                                json_object *e;

                                r = sd_bus_message_read(m, "(ss)", &k, &v);
                                if (r < 0)
                                        break;
                                e = json_object_new_object();
                                r = json_put(o, NULL, e);
                                if (r >= 0)
                                        r = json_put(e, "name", json_object_new_string(k));
                                if (r >= 0)
                                        r = json_put(e, "value", json_object_new_string(v));
                        } else if (dict) {
                                _cleanup_free_ char *key = NULL;
                                json_object *k = NULL, *v = NULL;

                                r = enter_next(m);
                                if (r < 0)
                                        break;
                                r = value_to_json(m, &k);
                                if (r >= 0)
                                        r = value_to_json(m, &v);
                                if (r >= 0) {
                                        /* Keys are strings or numbers. */
                                        key = snake_case(json_object_get_string(k));
                                        r = key ? json_put(o, key, TAKE_PTR(v)) : -ENOMEM;
                                }
                                json_object_put(k);
                                json_object_put(v);
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                        } else {
                                json_object *v = NULL;

                                r = value_to_json(m, &v);
                                if (r >= 0)
                                        r = json_put(o, NULL, v);
                        }
                        if (r < 0)
                                break;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                break;
        }

        default:
                o = basic_to_json(m, type, &r);
                if (o)
                        r = 0;
                break;
        }

        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

/* ---- properties ---------------------------------------------------------- */

typedef struct Prop {
        const char *name;       /* borrowed from the message */
        char *text;             /* text mode */
} Prop;

typedef struct Props {
        Prop *props;
        size_t n;
        json_object *json;      /* JSON mode: {"snake_name": value} */
} Props;

static void props_done(Props *p) {
        for (size_t i = 0; i < p->n; i++)
                free(p->props[i].text);
        free(p->props);
        json_object_put(p->json);
        *p = (Props) {};
}

static const char *props_get(const Props *p, const char *name) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->props[i].name, name))
                        return p->props[i].text;
        return NULL;
}

static int prop_read_json(sd_bus_message *m, const char *name, void *userdata) {
        Props *p = userdata;
        _cleanup_free_ char *key = snake_case(name);
        json_object *v = NULL;
        int r;

        if (!key)
                return -ENOMEM;
        r = value_to_json(m, &v);
        if (r < 0)
                return r;
        return json_put(p->json, key, v);
}

static int prop_read_text(sd_bus_message *m, const char *name, void *userdata) {
        Props *p = userdata;
        char *buf = NULL;
        size_t size = 0;
        Prop *n;
        FILE *f;
        int r;

        n = reallocarray(p->props, p->n + 1, sizeof(Prop));
        if (!n)
                return -ENOMEM;
        p->props = n;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = value_to_text(m, f);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        p->props[p->n++] = (Prop) { name, buf };
        return 0;
}

/* Reads an a{sv}; skips it with p NULL. */
static int props_read(sd_bus_message *m, bool json, Props *p) {
        if (!p)
                return sd_bus_message_skip(m, "a{sv}");

        if (json) {
                p->json = json_object_new_object();
                if (!p->json)
                        return -ENOMEM;
        }
        return bus_message_read_dict(m, "sv", json ? prop_read_json : prop_read_text, p);
}

/* ---- events --------------------------------------------------------------- */

typedef struct Event {
        const char *event;      /* "added", "removed", "changed" */
        ObjectKind kind;
        const char *path;
        char *name;             /* uuid, parent name, "parent/type"; "" for the manager */
        char *type_parent, *type_id;
        Props props;
        const char **invalidated;
        size_t n_invalidated;
} Event;

static void event_done(Event *e) {
        free(e->name);
        free(e->type_parent);
        free(e->type_id);
        props_done(&e->props);
        free(e->invalidated);
}

/* The object's name from its path, as siovd built it with sd_bus_path_encode;
 * the raw path when it has an unexpected shape. */
static int event_decode_path(Event *e) {
        int r = 0;

        switch (e->kind) {
        case OBJECT_DEVICE:
                r = sd_bus_path_decode(e->path, SIOV_DBUS_DEVICE_PREFIX, &e->name);
                break;
        case OBJECT_PARENT:
                r = sd_bus_path_decode(e->path, SIOV_DBUS_PARENT_PREFIX, &e->name);
                break;
        case OBJECT_TYPE:
                r = sd_bus_path_decode_many(e->path, SIOV_DBUS_PARENT_PREFIX "/%/" SIOV_DBUS_TYPE_INFIX "/%",
                                            &e->type_parent, &e->type_id);
                if (r > 0 && asprintf(&e->name, "%s/%s", e->type_parent, e->type_id) < 0) {
                        e->name = NULL;
                        return -ENOMEM;
                }
                break;
        case OBJECT_MANAGER:
                e->name = strdup("");
                return e->name ? 0 : -ENOMEM;
        default:
                break;
        }
        if (r < 0)
                return r;
        /* sd_bus_path_decode() takes any depth after the prefix. */
        if (r > 0 && e->kind != OBJECT_TYPE && strchr(e->name, '/')) {
                free(e->name);
                e->name = NULL;
                r = 0;
        }
        if (r == 0) {
                free(e->type_parent);
                free(e->type_id);
                e->type_parent = e->type_id = NULL;
                e->name = strdup(e->path);
                if (!e->name)
                        return -ENOMEM;
        }
        return 0;
}

typedef struct AddedParser {
        Event *event;
        bool json;
} AddedParser;

static int parse_added_interface(sd_bus_message *m, const char *interface, void *userdata) {
        AddedParser *ap = userdata;
        Event *e = ap->event;
        ObjectKind k = object_kind_from_interface(interface);

        /* One siov1 interface per object; others (Peer, Properties) are skipped. */
        if (k != OBJECT_NONE && e->kind == OBJECT_NONE) {
                e->kind = k;
                return props_read(m, ap->json, &e->props);
        }
        return props_read(m, ap->json, NULL);
}

static int parse_interfaces_added(sd_bus_message *m, bool json, Event *e) {
        AddedParser ap = { .event = e, .json = json };
        int r;

        r = sd_bus_message_read_basic(m, 'o', &e->path);
        if (r < 0)
                return r;
        return bus_message_read_dict(m, "sa{sv}", parse_added_interface, &ap);
}

static int parse_interfaces_removed(sd_bus_message *m, Event *e) {
        const char *interface;
        int r;

        r = sd_bus_message_read_basic(m, 'o', &e->path);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(m, 's', &interface)) > 0)
                if (e->kind == OBJECT_NONE)
                        e->kind = object_kind_from_interface(interface);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int parse_properties_changed(sd_bus_message *m, bool json, Event *e) {
        const char *interface, *name;
        int r;

        e->path = sd_bus_message_get_path(m);
        r = sd_bus_message_read_basic(m, 's', &interface);
        if (r < 0)
                return r;
        e->kind = object_kind_from_interface(interface);
        if (e->kind == OBJECT_NONE)
                return 0;
        r = props_read(m, json, &e->props);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(m, 's', &name)) > 0) {
                const char **l = reallocarray(e->invalidated, e->n_invalidated + 1, sizeof(char *));

                if (!l)
                        return -ENOMEM;
                e->invalidated = l;
                e->invalidated[e->n_invalidated++] = name;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int event_to_json(const Event *e, char **ret) {
        json_object *o, *inv = NULL;
        const char *s;
        int r;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        r = json_put(o, "event", json_object_new_string(e->event));
        if (r >= 0)
                r = json_put(o, "object", json_object_new_string(object_kind_names[e->kind]));
        if (r >= 0)
                r = json_put(o, "path", json_object_new_string(e->path));
        if (r >= 0 && e->kind == OBJECT_DEVICE)
                r = json_put(o, "uuid", json_object_new_string(e->name));
        if (r >= 0 && (e->kind == OBJECT_PARENT || e->kind == OBJECT_TYPE))
                r = json_put(o, "name", json_object_new_string(e->name));
        if (r >= 0 && e->kind == OBJECT_TYPE) {
                r = json_put(o, "parent", json_object_new_string(strempty(e->type_parent)));
                if (r >= 0)
                        r = json_put(o, "id", json_object_new_string(strempty(e->type_id)));
        }
        if (r >= 0)
                r = json_put(o, "properties", e->props.json ? json_object_get(e->props.json) : json_object_new_object());
        if (r >= 0 && streq(e->event, "changed")) {
                inv = json_object_new_array();
                for (size_t i = 0; inv && r >= 0 && i < e->n_invalidated; i++) {
                        _cleanup_free_ char *k = snake_case(e->invalidated[i]);

                        r = k ? json_put(inv, NULL, json_object_new_string(k)) : -ENOMEM;
                }
                if (r >= 0)
                        r = json_put(o, "invalidated", TAKE_PTR(inv));
        }
        json_object_put(inv);
        if (r < 0) {
                json_object_put(o);
                return r;
        }

        /* JSON lines: one object per line, whatever --json's mode. */
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = s ? strdup(s) : NULL;
        json_object_put(o);
        return *ret ? 0 : -ENOMEM;
}

static int event_to_text(const Event *e, char **ret) {
        _cleanup_free_ char *name = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        name = strdup_printable(e->name);
        if (!name)
                return -ENOMEM;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fprintf(f, "%s %s", e->event, object_kind_names[e->kind]);
        if (!isempty(name))
                fprintf(f, " %s", name);

        if (streq(e->event, "added")) {
                /* What identifies the new object, not every property. */
                const char *parent = props_get(&e->props, "Parent"), *type = props_get(&e->props, "Type");
                const char *state = props_get(&e->props, "State"), *vm = props_get(&e->props, "VM");
                const char *avail = props_get(&e->props, "AvailableInstances");
                const char *kinds = props_get(&e->props, "Kinds");

                switch (e->kind) {
                case OBJECT_DEVICE:
                        if (parent && type)
                                fprintf(f, " (%s %s)", parent, type);
                        if (state)
                                fprintf(f, " State=%s", state);
                        if (vm && !streq(vm, "\"\""))
                                fprintf(f, " VM=%s", vm);
                        break;
                case OBJECT_PARENT:
                        if (kinds)
                                fprintf(f, " Kinds=%s", kinds);
                        break;
                case OBJECT_TYPE:
                        if (avail)
                                fprintf(f, " AvailableInstances=%s", avail);
                        break;
                default:
                        break;
                }
        } else if (streq(e->event, "changed")) {
                for (size_t i = 0; i < e->props.n; i++)
                        fprintf(f, " %s=%s", e->props.props[i].name, e->props.props[i].text);
                for (size_t i = 0; i < e->n_invalidated; i++)
                        fprintf(f, " %s=<invalidated>", e->invalidated[i]);
        }

        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int monitor_format(sd_bus_message *m, bool json, char **ret) {
        _cleanup_(event_done) Event e = {};
        const char *interface, *member;
        int r;

        *ret = NULL;
        interface = sd_bus_message_get_interface(m);
        member = sd_bus_message_get_member(m);
        if (!interface || !member)
                return 0;

        if (streq(interface, OBJECT_MANAGER_INTERFACE) && streq(member, "InterfacesAdded")) {
                e.event = "added";
                r = parse_interfaces_added(m, json, &e);
        } else if (streq(interface, OBJECT_MANAGER_INTERFACE) && streq(member, "InterfacesRemoved")) {
                e.event = "removed";
                r = parse_interfaces_removed(m, &e);
        } else if (streq(interface, PROPERTIES_INTERFACE) && streq(member, "PropertiesChanged")) {
                e.event = "changed";
                r = parse_properties_changed(m, json, &e);
        } else
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -EBADMSG;
        if (e.kind == OBJECT_NONE || !e.path)
                return 0;       /* not a siovd object: nothing to show */

        r = event_decode_path(&e);
        if (r < 0)
                return r;
        return json ? event_to_json(&e, ret) : event_to_text(&e, ret);
}

/* ---- the loop ------------------------------------------------------------ */

typedef struct Monitor {
        Context *c;
        sd_event *event;
        bool json;
} Monitor;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Monitor *mon = userdata;
        _cleanup_free_ char *line = NULL;
        int r;

        r = monitor_format(m, mon->json, &line);
        if (r == -ENOMEM) {
                log_error_errno(r, "out of memory");
                return sd_event_exit(mon->event, EXIT_SIOVCTL_FAILED);
        }
        if (r < 0) {
                /* A malformed signal is siovd's bug; say so and go on. */
                log_error_errno(r, "cannot parse %s.%s from %s",
                                strempty(sd_bus_message_get_interface(m)), strempty(sd_bus_message_get_member(m)),
                                strempty(sd_bus_message_get_path(m)));
                return 0;
        }
        if (!line)
                return 0;

        /* Flushed per line: a reader (a test, a pipe) sees each event now. */
        if (puts(line) == EOF || fflush(stdout) != 0) {
                log_error_errno(-EIO, "cannot write the output");
                return sd_event_exit(mon->event, EXIT_SIOVCTL_FAILED);
        }
        return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        /* Not an event of the model, but worth knowing: a restarted siovd
         * publishes its objects again without "added" events. */
        if (isempty(new_owner))
                fprintf(stderr, "# siovd left the bus\n");
        else
                fprintf(stderr, "# siovd is on the bus (%s)\n", new_owner);
        return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Monitor *mon = userdata;

        log_error_errno(-ECONNRESET, "the bus connection was closed");
        return sd_event_exit(mon->event, EXIT_SIOVCTL_UNREACHABLE);
}

int verb_monitor(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        Monitor mon = { .c = c, .json = c->json != JSON_OFF };
        sigset_t mask;
        int r, has_owner = 0;

        /* By namespace: devices are announced by their own manager at
         * /org/siov1/device, parents and types by the root's. */
        static const char * const matches[] = {
                "type='signal',sender='" SIOV_DBUS_NAME "',path_namespace='" SIOV_DBUS_PATH "',"
                "interface='" OBJECT_MANAGER_INTERFACE "',member='InterfacesAdded'",
                "type='signal',sender='" SIOV_DBUS_NAME "',path_namespace='" SIOV_DBUS_PATH "',"
                "interface='" OBJECT_MANAGER_INTERFACE "',member='InterfacesRemoved'",
                "type='signal',sender='" SIOV_DBUS_NAME "',path_namespace='" SIOV_DBUS_PATH "',"
                "interface='" PROPERTIES_INTERFACE "',member='PropertiesChanged'",
        };

        r = bus_connect(c);
        if (r < 0)
                return r;

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "cannot set up the event loop: %m");
        mon.event = event;

        /* SIGINT and SIGTERM end the loop with 0 (sd-event's default handler). */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "cannot block signals: %m");
        r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot watch signals: %m");

        r = sd_bus_attach_event(c->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "cannot attach the bus to the event loop: %m");

        /* Synchronous AddMatch calls: when they return, the bus delivers
         * every later signal, so the line below means "ready". */
        for (size_t i = 0; i < ELEMENTSOF(matches); i++) {
                r = sd_bus_add_match(c->bus, NULL, matches[i], on_signal, &mon);
                if (r < 0)
                        return bus_log_call_error(c, &error, r, "watch siovd's signals");
        }
        r = sd_bus_add_match(c->bus, NULL,
                             "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                             "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" SIOV_DBUS_NAME "'",
                             on_owner_changed, &mon);
        if (r < 0)
                return bus_log_call_error(c, &error, r, "watch siovd's signals");
        /* Local to sd-bus: sent when the connection breaks. */
        r = sd_bus_match_signal(c->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, &mon);
        if (r < 0)
                return log_error_errno(r, "cannot watch the connection: %m");

        /* NameHasOwner does not activate siovd: monitoring should not start it. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = sd_bus_call_method(c->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner", &error, &reply, "s", SIOV_DBUS_NAME);
                if (r < 0)
                        return bus_log_call_error(c, &error, r, "ask the bus about siovd");
                r = sd_bus_message_read(reply, "b", &has_owner);
                if (r < 0)
                        return log_error_errno(r, "cannot parse the bus's answer: %m");
        }

        fprintf(stderr, "# monitoring %s on %s%s\n", SIOV_DBUS_NAME, c->bus_description,
                has_owner ? "" : " (siovd is not running now)");

        r = sd_event_loop(event);
        if (r < 0)
                return log_error_errno(r, "event loop failed: %m");
        switch (r) {
        case EXIT_SIOVCTL_OK:
                return 0;
        case EXIT_SIOVCTL_UNREACHABLE:
                return -ERRNO_UNREACHABLE;
        default:
                return -EIO;
        }
}
