/* SPDX-License-Identifier: MIT */
/*
 * The control channel on Windows: a named pipe, one instance, byte mode,
 * local clients only (PIPE_REJECT_REMOTE_CLIENTS), created with the default
 * DACL (memgov's user, SYSTEM, administrators). memgov connects the client
 * end itself, inheritable, before the child starts: with the one instance
 * taken, nobody else can open the pipe. Its I/O is overlapped and completes
 * on the sandbox's completion port (JOB_SOURCE_KEY_CHANNEL), so the one loop
 * waits for the job and the channel alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../queue.h"
#include "job-source.h"
#include "job.h"
#include "win-util.h"

#define CHANNEL_QUEUE_MAX (64 * 1024)

struct PlatformChannel {
        char name[128];
        HANDLE pipe, child_end;
        JobSource *port_source;
        OVERLAPPED read_ov, write_ov;
        HANDLE read_event, write_event; /* so that a cancelled I/O can be waited for, each on its own */
        char read_buf[4096];
        size_t read_len, read_pos;
        bool read_pending, closed;
        char *queue; /* bytes to send; the first in_flight of them are being written */
        size_t queue_len, in_flight;
};

static void channel_arm_read(PlatformChannel *c)
{
        if (c->closed || c->read_pending || c->read_pos < c->read_len)
                return;
        c->read_len = c->read_pos = 0;
        c->read_ov = (OVERLAPPED){.hEvent = c->read_event};
        /* Completes on the port, also when it completes at once. */
        if (!ReadFile(c->pipe, c->read_buf, sizeof(c->read_buf), NULL, &c->read_ov) &&
            GetLastError() != ERROR_IO_PENDING) {
                c->closed = true;
                return;
        }
        c->read_pending = true;
}

static void channel_start_write(PlatformChannel *c)
{
        if (c->closed || c->in_flight > 0 || c->queue_len == 0)
                return;
        c->write_ov = (OVERLAPPED){.hEvent = c->write_event};
        if (!WriteFile(c->pipe, c->queue, (DWORD)c->queue_len, NULL, &c->write_ov) &&
            GetLastError() != ERROR_IO_PENDING) {
                c->closed = true;
                return;
        }
        c->in_flight = c->queue_len;
}

static void channel_on_completion(void *userdata, OVERLAPPED *ov, DWORD bytes, bool ok, PlatformEvent *ret)
{
        PlatformChannel *c = userdata;

        if (ov == &c->read_ov) {
                c->read_pending = false;
                if (!ok || bytes == 0)
                        c->closed = true;
                else
                        c->read_len = bytes;
                *ret = (PlatformEvent){.kind = PLATFORM_EVENT_CHANNEL};
        } else if (ov == &c->write_ov) {
                size_t done = bytes < c->in_flight ? bytes : c->in_flight;

                c->in_flight = 0;
                if (!ok) {
                        c->closed = true;
                        *ret = (PlatformEvent){.kind = PLATFORM_EVENT_CHANNEL};
                        return;
                }
                memmove(c->queue, c->queue + done, c->queue_len - done);
                c->queue_len -= done;
                channel_start_write(c);
        }
}

static int channel_connect(PlatformChannel *c, const char *name)
{
        SECURITY_ATTRIBUTES inherit = {.nLength = sizeof(inherit), .bInheritHandle = TRUE};
        OVERLAPPED ov = {};
        DWORD n;

        c->pipe = CreateNamedPipeA(
                name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
                CHANNEL_QUEUE_MAX, CHANNEL_QUEUE_MAX, 0, NULL);
        if (c->pipe == INVALID_HANDLE_VALUE) {
                c->pipe = NULL;
                return win_last_errno();
        }
        ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
        if (!ov.hEvent)
                return win_last_errno();
        /* Listening first, then the client end: the connect completes at once. */
        if (!ConnectNamedPipe(c->pipe, &ov) && GetLastError() != ERROR_IO_PENDING &&
            GetLastError() != ERROR_PIPE_CONNECTED) {
                CloseHandle(ov.hEvent);
                return win_last_errno();
        }
        c->child_end = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, &inherit, OPEN_EXISTING, 0, NULL);
        if (c->child_end == INVALID_HANDLE_VALUE) {
                int r = win_last_errno();
                c->child_end = NULL;
                CancelIoEx(c->pipe, &ov);
                GetOverlappedResult(c->pipe, &ov, &n, TRUE);
                CloseHandle(ov.hEvent);
                return r;
        }
        GetOverlappedResult(c->pipe, &ov, &n, TRUE);
        CloseHandle(ov.hEvent);
        return 0;
}

int platform_channel_open(PlatformSandbox *s, PlatformChannel **ret, int *ret_child_handle)
{
        static LONG counter;
        PlatformChannel *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        /* Unguessable is not needed (the one instance is taken before anyone learns the name), unique is. */
        snprintf(c->name, sizeof(c->name), "\\\\.\\pipe\\memgov-%lu-%ld-%llu", GetCurrentProcessId(),
                 InterlockedIncrement(&counter), (unsigned long long)GetTickCount64());
        c->read_event = CreateEventA(NULL, TRUE, FALSE, NULL);
        c->write_event = CreateEventA(NULL, TRUE, FALSE, NULL);
        r = c->read_event && c->write_event ? channel_connect(c, c->name) : win_last_errno();
        if (r >= 0 && !CreateIoCompletionPort(c->pipe, win_sandbox_port(s), JOB_SOURCE_KEY_CHANNEL, 0))
                r = win_last_errno();
        if (r < 0) {
                platform_channel_free(c);
                return r;
        }
        c->port_source = win_sandbox_port_source(s);
        job_source_port_set_channel(c->port_source, channel_on_completion, c);
        channel_arm_read(c);
        *ret_child_handle = (int)(uintptr_t)c->child_end; /* handles fit in 32 bits, for 32-bit processes */
        *ret = c;
        return 0;
}

const char *platform_channel_name(const PlatformChannel *c)
{
        return c->name;
}

void platform_channel_child_started(PlatformChannel *c)
{
        if (c->child_end) {
                CloseHandle(c->child_end);
                c->child_end = NULL;
        }
}

int platform_channel_read(PlatformChannel *c, void *buf, size_t size)
{
        size_t n;

        if (c->read_pos < c->read_len) {
                n = c->read_len - c->read_pos < size ? c->read_len - c->read_pos : size;
                memcpy(buf, c->read_buf + c->read_pos, n);
                c->read_pos += n;
                channel_arm_read(c);
                return (int)n;
        }
        return c->closed ? -EPIPE : 0;
}

int platform_channel_write(PlatformChannel *c, const void *data, size_t size)
{
        char *q;

        if (c->closed)
                return -EPIPE;
        if (c->queue_len + size > CHANNEL_QUEUE_MAX)
                return -ENOBUFS;
        q = realloc(c->queue, c->queue_len + size);
        if (!q)
                return -ENOMEM;
        memcpy(q + c->queue_len, data, size);
        c->queue = q;
        c->queue_len += size;
        channel_start_write(c);
        return c->closed ? -EPIPE : 0;
}

PlatformChannel *platform_channel_free(PlatformChannel *c)
{
        DWORD n;

        if (!c)
                return NULL;
        if (c->port_source)
                job_source_port_set_channel(c->port_source, NULL, NULL);
        if (c->pipe) {
                /* The kernel writes into the OVERLAPPEDs until a cancelled I/O is done: wait for that. */
                CancelIoEx(c->pipe, NULL);
                if (c->read_pending)
                        GetOverlappedResult(c->pipe, &c->read_ov, &n, TRUE);
                if (c->in_flight)
                        GetOverlappedResult(c->pipe, &c->write_ov, &n, TRUE);
                CloseHandle(c->pipe);
        }
        if (c->child_end)
                CloseHandle(c->child_end);
        if (c->read_event)
                CloseHandle(c->read_event);
        if (c->write_event)
                CloseHandle(c->write_event);
        free(c->queue);
        free(c);
        return NULL;
}
