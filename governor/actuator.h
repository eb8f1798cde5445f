/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Writes that can block (a throttle point below usage, a reclaim: the writer
 * does the reclaim) run on one worker thread, so the event loop stays
 * responsive. Each kind has one pending slot: a newer request replaces one
 * not yet started. Results come back on the loop through an eventfd.
 */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "../platform/platform.h"
#include "../policy/units.h"

typedef enum ActuatorKind {
        ACTUATOR_RECLAIM,
        ACTUATOR_SET_HIGH,
        _ACTUATOR_KIND_MAX,
} ActuatorKind;

typedef struct Actuator Actuator;

/* Called on the loop thread when a write finished: result is 0 or a negative errno, took_usec how long the
 * write itself took. */
typedef void (*actuator_done_t)(ActuatorKind kind, uint64_t bytes, int result, usec_t took_usec,
                                void *userdata);

int actuator_new(sd_event *e, PlatformSandbox *s, actuator_done_t done, void *userdata, Actuator **ret);

/* Queues a write; replaces a pending one of the same kind. */
void actuator_submit(Actuator *a, ActuatorKind kind, uint64_t bytes);

/* Whether a write of this kind is queued or under way. */
bool actuator_busy(Actuator *a, ActuatorKind kind);

/* Stops the worker (a write under way is interrupted) and frees. */
Actuator *actuator_free(Actuator *a);

const char *actuator_kind_to_string(ActuatorKind k);
