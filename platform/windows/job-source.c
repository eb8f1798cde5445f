/* SPDX-License-Identifier: MIT */
/*
 * The real notification source: the Job Object's completion port
 * (JOBOBJECT_ASSOCIATE_COMPLETION_PORT) and its accounting.
 */
#include "job-source.h"

#include <errno.h>
#include <psapi.h>
#include <stdlib.h>

#include "win-util.h"

typedef struct PortSource {
        JobSource base;
        HANDLE job, port;
        JobSourceChannelHandler on_channel;
        void *channel_userdata;
} PortSource;

static JobSourceWrap source_wrap;
static void *source_wrap_userdata;

static PlatformEventKind event_from_message(DWORD message)
{
        switch (message) {
        case JOB_OBJECT_MSG_NEW_PROCESS:
                return PLATFORM_EVENT_NEW_PROCESS;
        case JOB_OBJECT_MSG_EXIT_PROCESS:
        case JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS:
                return PLATFORM_EVENT_EXIT_PROCESS;
        case JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO:
                return PLATFORM_EVENT_EMPTY;
        case JOB_OBJECT_MSG_JOB_MEMORY_LIMIT:
        case JOB_OBJECT_MSG_PROCESS_MEMORY_LIMIT:
                return PLATFORM_EVENT_MEMORY_MAX;
        case JOB_OBJECT_MSG_NOTIFICATION_LIMIT:
                return PLATFORM_EVENT_MEMORY_HIGH;
        default:
                return PLATFORM_EVENT_TIMEOUT;
        }
}

static int port_next_event(JobSource *src, uint32_t timeout_ms, PlatformEvent *ret)
{
        PortSource *p = (PortSource *)src;
        DWORD message = 0;
        ULONG_PTR key = 0;
        LPOVERLAPPED ov = NULL;
        BOOL ok = GetQueuedCompletionStatus(p->port, &message, &key, &ov, timeout_ms);

        if (!ok && !ov) {
                if (GetLastError() == WAIT_TIMEOUT) {
                        *ret = (PlatformEvent){.kind = PLATFORM_EVENT_TIMEOUT};
                        return 0;
                }
                return win_last_errno();
        }
        if (key == JOB_SOURCE_KEY_CHANNEL) {
                /* An I/O of the control channel, done or failed (the child closed its end). */
                *ret = (PlatformEvent){.kind = PLATFORM_EVENT_TIMEOUT};
                if (p->on_channel)
                        p->on_channel(p->channel_userdata, ov, message, ok, ret);
                return 0;
        }
        if (key == JOB_SOURCE_KEY_INTERRUPT) {
                *ret = (PlatformEvent){.kind = PLATFORM_EVENT_INTERRUPT};
                return 0;
        }
        /* For job messages the "overlapped" pointer carries the process id, where there is one. */
        *ret = (PlatformEvent){
                .kind = key == JOB_SOURCE_KEY_JOB ? event_from_message(message) : PLATFORM_EVENT_TIMEOUT,
                .pid = (uint32_t)(uintptr_t)ov,
        };
        return 0;
}

/* The commit charge: what JobMemoryLimit counts. PagefileUsage is documented as exactly that (PrivateUsage
 * is the same number on Windows, but Wine 8 leaves it 0). */
static uint64_t process_commit_bytes(DWORD pid)
{
        PROCESS_MEMORY_COUNTERS pmc = {.cb = sizeof(pmc)};
        HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
        uint64_t bytes = 0;

        if (!h)
                return 0; /* gone since the list was taken */
        if (GetProcessMemoryInfo(h, &pmc, sizeof(pmc)))
                bytes = pmc.PagefileUsage;
        CloseHandle(h);
        return bytes;
}

static int port_accounting(JobSource *src, JobAccounting *ret)
{
        PortSource *p = (PortSource *)src;
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext = {};
        JOBOBJECT_BASIC_ACCOUNTING_INFORMATION basic = {};
        /* Room for 1024 processes; a bigger tree gets ERROR_MORE_DATA and is summed over the first ones. */
        _cleanup_free_ JOBOBJECT_BASIC_PROCESS_ID_LIST *list =
                malloc(sizeof(*list) + 1024 * sizeof(list->ProcessIdList[0]));
        JobAccounting a = {};

        if (!list)
                return -ENOMEM;
        if (!QueryInformationJobObject(p->job, JobObjectExtendedLimitInformation, &ext, sizeof(ext), NULL) ||
            !QueryInformationJobObject(p->job, JobObjectBasicAccountingInformation, &basic, sizeof(basic),
                                       NULL))
                return win_last_errno();
        /* A peak below what runs now was never tracked (Wine 8 reports 0): unknown, not zero. */
        a.peak_bytes = ext.PeakJobMemoryUsed;
        a.active_processes = basic.ActiveProcesses;

        list->NumberOfAssignedProcesses = 1024;
        if (!QueryInformationJobObject(p->job, JobObjectBasicProcessIdList, list,
                                       sizeof(*list) + 1024 * sizeof(list->ProcessIdList[0]), NULL) &&
            GetLastError() != ERROR_MORE_DATA)
                return win_last_errno();
        for (DWORD i = 0; i < list->NumberOfProcessIdsInList && i < 1024; i++)
                a.current_bytes += process_commit_bytes((DWORD)list->ProcessIdList[i]);
        if (a.peak_bytes < a.current_bytes)
                a.peak_bytes = PLATFORM_UNLIMITED;
        *ret = a;
        return 0;
}

static void port_free(JobSource *src)
{
        free(src);
}

int job_source_new_port(HANDLE job, HANDLE port, JobSource **ret)
{
        PortSource *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        *p = (PortSource){
                .base = {.next_event = port_next_event, .accounting = port_accounting, .free = port_free},
                .job = job,
                .port = port,
        };
        *ret = &p->base;
        return 0;
}

void job_source_port_set_channel(JobSource *port_source, JobSourceChannelHandler handler, void *userdata)
{
        PortSource *p = (PortSource *)port_source;

        p->on_channel = handler;
        p->channel_userdata = userdata;
}

void job_source_set_wrap(JobSourceWrap wrap, void *userdata)
{
        source_wrap = wrap;
        source_wrap_userdata = userdata;
}

JobSource *job_source_wrap(JobSource *real)
{
        return source_wrap ? source_wrap(real, source_wrap_userdata) : real;
}
