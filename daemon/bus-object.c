/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "bus-object.h"
#include "log.h"

int bus_add_implementation(sd_bus *bus, const BusObjectImplementation *impl, void *userdata) {
        int r;

        if (impl->manager) {
                r = sd_bus_add_object_manager(bus, NULL, impl->path);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the object manager at %s: %m", impl->path);
        }
        for (const BusObjectVtable *v = impl->vtables; v && v->interface; v++) {
                if (v->find)
                        r = sd_bus_add_fallback_vtable(bus, NULL, impl->path, v->interface, v->vtable,
                                                       v->find, userdata);
                else
                        r = sd_bus_add_object_vtable(bus, NULL, impl->path, v->interface, v->vtable, userdata);
                if (r < 0)
                        return log_error_errno(r, "Cannot add %s at %s: %m", v->interface, impl->path);
        }
        if (impl->node_enumerator) {
                r = sd_bus_add_node_enumerator(bus, NULL, impl->path, impl->node_enumerator, userdata);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the enumerator of %s: %m", impl->path);
        }
        for (const BusObjectImplementation *const *c = impl->children; c && *c; c++) {
                r = bus_add_implementation(bus, *c, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}
