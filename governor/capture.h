/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Heap captures, memgov's side: picks the agent, names the file in the
 * capture directory, sends the capture message, waits for the answer (or a
 * timeout), keeps the directory under its disk budget and remembers what
 * was captured for the post-mortem. When to capture is policy/capture.h's;
 * this does the I/O and logs each decision once.
 */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "../policy/capture.h"
#include "../policy/law.h"
#include "../policy/postmortem.h"
#include "control.h"

typedef struct Capturer Capturer;

/* A capture ended: written, failed, timed out, or its agent went away. */
typedef void (*capturer_done_t)(void *userdata);

/* dir NULL: capture_dir_default(). name: the group's, for the file names. The directory is made at the
 * first capture or arm (or capturer_prepare_dir()), not here, and one made for an arm that never fired is
 * removed again at the end, so that a memgov that never captures leaves nothing behind. */
int capturer_new(sd_event *e, ControlServer *control, const CaptureConfig *c, const char *dir,
                 const char *name, capturer_done_t done, void *userdata, Capturer **ret);
Capturer *capturer_free(Capturer *k);

/* /var/lib/memgov/captures as root, else $XDG_STATE_HOME/memgov (~/.local/state/memgov). */
int capture_dir_default(char **ret);

/*
 * Decides (policy/capture.h) and, if it may, asks the agent with the largest heap. headroom_bytes: the
 * group's limit less its usage. Returns 1 when a capture was asked for (done follows), 0 when refused
 * (logged; *reason says why), or a negative errno (logged).
 */
int capturer_start(Capturer *k, CaptureWhy why, uint64_t headroom_bytes, char *reason, size_t reason_size);
bool capturer_busy(const Capturer *k);

/* From the control server's callbacks. */
void capturer_on_captured(Capturer *k, const AgentReport *a, const ProtoCaptured *c);
void capturer_on_agent_gone(Capturer *k, const AgentReport *a);

/*
 * Arms, re-arms or disarms the agent that would capture (policy/capture.h, capture_arm_decide()) after a
 * step: its line is the live heap at which the law's breaker would start to count toward cannot-fit.
 * have_line: the law steers an agent under a limit and has not given up.
 */
void capturer_arm(Capturer *k, bool have_line, const PolicyDecision *d, const PolicyConfig *c);

/* Makes the directory (mkdir -p; the agents cannot) once, or finds it there: a negative errno when it cannot
 * be made. capturer_arm() calls it; memgov run calls it before the program starts, so that the first arm,
 * which follows the first target, holds the loop up with no file-system work (15 ms in the VM). */
int capturer_prepare_dir(Capturer *k);

/* An arm that fired (its file is there) and was not answered yet becomes the capture under way, with the
 * same timeout as one asked for: true then, and the done callback comes with its answer. The "cannot fit"
 * post-mortem and kill wait for it, as for one asked for; killing while the agent writes left an empty
 * profile (vm.capture.armed). */
bool capturer_await_fired_arm(Capturer *k);

/* The captures of this run and the last refusal, for the post-mortem; p's strings point into k. An armed
 * capture whose file is there but whose answer never came (the program died first) is counted in. */
void capturer_fill_postmortem(Capturer *k, Postmortem *p);
