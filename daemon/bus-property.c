/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-property.h"

int bus_message_append_strv(sd_bus_message *m, char * const *l) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (; l && *l; l++) {
                r = sd_bus_message_append_basic(m, 's', *l);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}
