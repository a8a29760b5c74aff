/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* siovd --metrics=FILE: the model and operation counters as a Prometheus
 * text file for node_exporter's textfile collector (see metrics.c). */

typedef struct Metrics Metrics;

/* Refuses (-EEXIST) a FILE that exists and was not written by siovd. */
int metrics_new(Manager *m, const char *path, Metrics **ret);
Metrics *metrics_free(Metrics *x);

/* The model changed: rewrite the file soon, once for a burst. No-op without
 * --metrics. */
void metrics_changed(Manager *m);
/* Writes the file now (at start, once the model is read). */
int metrics_write(Manager *m);

/* A changing D-Bus call finished: counted by member, failures also by error
 * name (error NULL or unset: success). */
void metrics_count_call(Manager *m, const char *member, const sd_bus_error *error);
