/* SPDX-License-Identifier: MIT */
#include "actuator.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>

#include "../policy/macro.h"
#include "log.h"

typedef struct Slot {
        bool pending, running, finished;
        uint64_t bytes;      /* the pending request */
        uint64_t done_bytes; /* what the finished write asked for */
        int result;
        usec_t took_usec;
} Slot;

struct Actuator {
        PlatformSandbox *sandbox;
        actuator_done_t done;
        void *userdata;
        int efd;
        sd_event_source *source;
        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool quit;
        Slot slots[_ACTUATOR_KIND_MAX];
};

const char *actuator_kind_to_string(ActuatorKind k)
{
        return platform_name(k == ACTUATOR_RECLAIM ? PLATFORM_NAME_RECLAIM : PLATFORM_NAME_HIGH);
}

static usec_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static int write_one(Actuator *a, ActuatorKind kind, uint64_t bytes)
{
        if (kind == ACTUATOR_RECLAIM)
                return platform_sandbox_reclaim(a->sandbox, bytes);
        return platform_sandbox_set_high(a->sandbox, bytes);
}

static void *worker(void *userdata)
{
        Actuator *a = userdata;

        /* Cancellation only ever lands inside the blocking write, never with the lock held. */
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        pthread_mutex_lock(&a->lock);
        for (;;) {
                int kind = -1;

                while (!a->quit) {
                        for (int k = 0; k < _ACTUATOR_KIND_MAX && kind < 0; k++)
                                if (a->slots[k].pending)
                                        kind = k;
                        if (kind >= 0)
                                break;
                        pthread_cond_wait(&a->wake, &a->lock);
                }
                if (a->quit)
                        break;

                Slot *slot = &a->slots[kind];
                uint64_t bytes = slot->bytes;
                slot->pending = false;
                slot->running = true;
                pthread_mutex_unlock(&a->lock);

                usec_t start = now_usec();
                pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
                int r = write_one(a, (ActuatorKind)kind, bytes);
                pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
                usec_t took = now_usec() - start;

                pthread_mutex_lock(&a->lock);
                slot->running = false;
                slot->finished = true;
                slot->done_bytes = bytes;
                slot->result = r;
                slot->took_usec = took;
                (void)eventfd_write(a->efd, 1);
        }
        pthread_mutex_unlock(&a->lock);
        return NULL;
}

static int on_result(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Actuator *a = userdata;
        eventfd_t v;

        (void)eventfd_read(a->efd, &v);
        for (int k = 0; k < _ACTUATOR_KIND_MAX; k++) {
                Slot done;

                pthread_mutex_lock(&a->lock);
                done = a->slots[k];
                a->slots[k].finished = false;
                pthread_mutex_unlock(&a->lock);
                if (done.finished && a->done)
                        a->done((ActuatorKind)k, done.done_bytes, done.result, done.took_usec, a->userdata);
        }
        return 0;
}

int actuator_new(sd_event *e, PlatformSandbox *s, actuator_done_t done, void *userdata, Actuator **ret)
{
        Actuator *a;
        sigset_t all, old;
        int r;

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->sandbox = s;
        a->done = done;
        a->userdata = userdata;
        pthread_mutex_init(&a->lock, NULL);
        pthread_cond_init(&a->wake, NULL);
        a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (a->efd < 0) {
                r = negative_errno();
                actuator_free(a);
                return r;
        }
        r = sd_event_add_io(e, &a->source, a->efd, EPOLLIN, on_result, a);
        if (r < 0) {
                actuator_free(a);
                return r;
        }

        /* The worker must never take a signal meant for the loop's signalfd. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&a->thread, NULL, worker, a);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                actuator_free(a);
                return r;
        }
        a->thread_started = true;
        *ret = a;
        return 0;
}

void actuator_submit(Actuator *a, ActuatorKind kind, uint64_t bytes)
{
        pthread_mutex_lock(&a->lock);
        a->slots[kind].pending = true;
        a->slots[kind].bytes = bytes;
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
}

bool actuator_busy(Actuator *a, ActuatorKind kind)
{
        bool busy;

        pthread_mutex_lock(&a->lock);
        busy = a->slots[kind].pending || a->slots[kind].running;
        pthread_mutex_unlock(&a->lock);
        return busy;
}

Actuator *actuator_free(Actuator *a)
{
        if (!a)
                return NULL;
        if (a->thread_started) {
                pthread_mutex_lock(&a->lock);
                a->quit = true;
                pthread_cond_signal(&a->wake);
                pthread_mutex_unlock(&a->lock);
                /* A write blocked in reclaim is interrupted (the worker enables cancellation only around
                 * it); an idle worker has already seen quit. The group is being torn down anyway. */
                pthread_cancel(a->thread);
                pthread_join(a->thread, NULL);
        }
        sd_event_source_disable_unref(a->source);
        safe_close(a->efd);
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        free(a);
        return NULL;
}
