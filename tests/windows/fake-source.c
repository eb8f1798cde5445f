/* SPDX-License-Identifier: MIT */
#include "fake-source.h"

#include <errno.h>
#include <stdlib.h>

typedef struct FakeSource {
        JobSource base;
        JobSource *real;
        FakeScript *script;
} FakeSource;

static int fake_next_event(JobSource *src, uint32_t timeout_ms, PlatformEvent *ret)
{
        FakeSource *f = (FakeSource *)src;
        FakeScript *s = f->script;

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
