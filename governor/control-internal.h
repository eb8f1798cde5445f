/* SPDX-License-Identifier: MIT */
/* The control server's insides, shared by control.c and the control-*.c files it is split into. */
#pragma once

#include "../policy/macro.h"
#include "control.h"

typedef struct Conn {
        ControlServer *server;
        int fd;
        sd_event_source *io, *timer;
        AgentReport report;
        bool path_socket;
        bool hello_done;
        bool closed;
        bool throttled;
        char close_reason[160];
        ProtoFramer in;
        char *out;
        size_t out_len, out_cap;
        usec_t connected_usec, line_started_usec, stall_since_usec, resume_usec;
        double tokens;
        usec_t tokens_usec;
        bool target_sent;
        uint64_t sent_bytes;
        ProtoLevel sent_level;
        usec_t stats_asked_usec; /* when a stats? went out that no stats line has answered yet; 0: none */
} Conn;

struct ControlServer {
        sd_event *event;
        const PlatformSandbox *sandbox; /* path-socket peers must run in it; NULL: no check */
        ControlCallbacks cb;
        ControlLimits limits;
        Conn **conns;
        size_t n_conns, conns_cap;
        AgentReport *snapshot;
        size_t snapshot_cap;
        sd_event_source *reap_source;
        int listen_fd;
        sd_event_source *listen_source;
        char *socket_path;
        int child_fd;
        unsigned next_id;
        uint64_t seq;
        bool have_target;
        uint64_t target_bytes;
        ProtoLevel level;
};

/* Now on the server's loop clock. */
usec_t server_now_usec(ControlServer *s);

/* control-conn.c: one connection. conn_new() takes fd. */
int conn_new(ControlServer *s, int fd, bool path_socket, pid_t pid);
void conn_release(Conn *c);
/* The one place a connection ends. level: how loud the decision is (a bye is not news). */
_printf_(3, 4) void conn_close(Conn *c, int level, const char *fmt, ...);
int conn_send(Conn *c, const char *line, size_t n);
/* Arms the io source and the timer for what the connection waits for now. */
void conn_update(Conn *c);

static inline bool conn_is_agent(const Conn *c)
{
        return c->hello_done && !c->closed;
}

/* control-handlers.c: one complete line from the agent. */
void conn_handle_line(Conn *c, char *line, size_t len);

/* control.c: each agent's share of the target, sent where it changed; returns how many were sent. */
int server_distribute(ControlServer *s);
/* Connections not closed, including those that did not say hello yet. */
size_t server_active_conns(const ControlServer *s);
