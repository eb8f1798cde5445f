/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Publishing the metrics (policy/metrics-format.h): to a file replaced
 * atomically at each step (--metrics-file, for node_exporter's textfile
 * collector), and on a loopback HTTP endpoint served from the event loop
 * (--metrics-listen). Both are optional; a Metrics with neither does nothing.
 */

#include <systemd/sd-event.h>

#include "../policy/metrics-format.h"

typedef struct Metrics Metrics;

/* file, listen: NULL when not asked for. Checks that the file can be written and binds the port now, so a
 * mistake fails before the child starts; logs what is wrong. */
int metrics_new(sd_event *e, const char *file, const char *listen, Metrics **ret);
void metrics_publish(Metrics *m, const MetricsSnapshot *snap);
Metrics *metrics_free(Metrics *m);
