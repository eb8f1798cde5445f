/* SPDX-License-Identifier: MIT */
#include "fake-source.h"

#include <errno.h>
#include <stdlib.h>

typedef struct FakeSource {
        JobSource base;
        JobSource *real;
        FakeScript *script;
        uint64_t due_ms; /* real_while_waiting: when the next scripted event is due, 0: not counting yet */
} FakeSource;

static int fake_wait_real(FakeSource *f, uint32_t timeout_ms, PlatformEvent *ret)
{
        uint64_t now = GetTickCount64();
        uint64_t left;

        if (f->due_ms == 0)
                f->due_ms = now + f->script->delay_ms;
        if (now >= f->due_ms) {
                f->due_ms = 0;
                *ret = f->script->events[f->script->delivered++];
                return 0;
        }
        left = f->due_ms - now;
        return f->real->next_event(f->real, left < timeout_ms ? (uint32_t)left : timeout_ms, ret);
}

static int fake_next_event(JobSource *src, uint32_t timeout_ms, PlatformEvent *ret)
{
        FakeSource *f = (FakeSource *)src;
        FakeScript *s = f->script;

        if (s->delivered < s->n_events && s->real_while_waiting)
                return fake_wait_real(f, timeout_ms, ret);
        if (s->delivered < s->n_events) {
                Sleep(s->delay_ms < timeout_ms ? s->delay_ms : timeout_ms);
                *ret = s->events[s->delivered++];
                return 0;
        }
        return f->real->next_event(f->real, timeout_ms, ret);
}

static int fake_accounting(JobSource *src, JobAccounting *ret)
{
        FakeSource *f = (FakeSource *)src;
        int r = f->real->accounting(f->real, ret);

        if (r < 0)
                return r;
        f->script->accounting_calls++;
        if (f->script->override_current)
                ret->current_bytes = f->script->current_bytes;
        return 0;
}

static void fake_free(JobSource *src)
{
        FakeSource *f = (FakeSource *)src;

        f->real->free(f->real);
        free(f);
}

static JobSource *fake_wrap(JobSource *real, void *userdata)
{
        FakeSource *f = calloc(1, sizeof(*f));

        if (!f)
                return real; /* the test then sees no scripted events and fails, as it should */
        *f = (FakeSource){
                .base = {.next_event = fake_next_event, .accounting = fake_accounting, .free = fake_free},
                .real = real,
                .script = userdata,
        };
        return &f->base;
}

void fake_source_install(FakeScript *script)
{
        job_source_set_wrap(script ? fake_wrap : NULL, script);
}
