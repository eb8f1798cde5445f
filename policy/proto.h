/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The control protocol between memgov and an agent (docs/protocol.md), as
 * pure code: a framer that cuts a byte stream into lines, a parser of one
 * line into a type and key=value fields, typed getters, and formatters.
 * No I/O, no allocation: every buffer belongs to the caller. Functions that
 * can fail return a negative errno:
 *   -EMSGSIZE  a line longer than PROTO_LINE_MAX, or an output buffer too small (-ENOBUFS)
 *   -EBADMSG   a malformed line (the parser also names the reason)
 *   -ENOENT    a key that is not there
 *   -EINVAL    a value that is not of the asked type
 *   -ERANGE    a number too large
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION      1u
#define PROTO_LINE_MAX     4096u      /* bytes per line, the newline included */
#define PROTO_FIELDS_MAX   32u        /* key=value pairs per line */
#define PROTO_TYPE_MAX     32u        /* bytes of a message type */
#define PROTO_KEY_MAX      64u        /* bytes of a key */
#define PROTO_LIMIT_NONE   UINT64_MAX /* "max": no limit */
#define PROTO_FRACTION_MAX 18u        /* digits after the decimal point */

typedef enum ProtoLevel {
        PROTO_LEVEL_OK,
        PROTO_LEVEL_ELEVATED,
        PROTO_LEVEL_CRITICAL,
        _PROTO_LEVEL_MAX,
} ProtoLevel;

/* What memgov can ask of every agent, besides a target. */
typedef enum ProtoRequest {
        PROTO_REQUEST_GC,
        PROTO_REQUEST_RELEASE,
        PROTO_REQUEST_SHED, /* with a level */
        PROTO_REQUEST_STATS,
        PROTO_REQUEST_BYE,
        _PROTO_REQUEST_MAX,
} ProtoRequest;

const char *proto_level_to_string(ProtoLevel l);
int proto_level_from_string(const char *s, ProtoLevel *ret);
/* The message type: "gc", "release", "shed", "stats?", "bye". */
const char *proto_request_to_string(ProtoRequest r);

/*
 * The framer holds at most one line's worth of bytes. Read into the space
 * it offers (or feed() a copy), then call next() until it returns 0:
 *
 *     room = proto_framer_space(f, &p);
 *     n = read(fd, p, room);
 *     proto_framer_commit(f, n);
 *     while ((r = proto_framer_next(f, &line, &len)) > 0)
 *             handle(line, len);
 *     if (r < 0) -> the peer sent a line longer than PROTO_LINE_MAX
 *
 * A returned line has its newline replaced by NUL; it may contain other NUL
 * bytes (len says where it ends, the parser rejects them). It stays valid
 * and writable until the next call on the framer.
 */
typedef struct ProtoFramer {
        size_t start; /* first byte not yet returned */
        size_t scan;  /* bytes from start known to hold no newline */
        size_t len;   /* bytes held */
        char buf[PROTO_LINE_MAX];
} ProtoFramer;

void proto_framer_init(ProtoFramer *f);
/* Where the next bytes go, and how many fit (0 only after next() returned an error). */
size_t proto_framer_space(ProtoFramer *f, char **ret_ptr);
void proto_framer_commit(ProtoFramer *f, size_t n);
/* Copies as many bytes as fit; returns how many. */
size_t proto_framer_feed(ProtoFramer *f, const void *data, size_t size);
/* 1 and a line; 0 when no complete line is held; -EMSGSIZE for an over-long line. */
int proto_framer_next(ProtoFramer *f, char **ret_line, size_t *ret_len);
/* Whether data holds only bytes a line may hold (newlines included), so a reader can drop a peer
 * that sends binary at once rather than when its line ends. -EBADMSG and *reason if not. */
int proto_check_bytes(const char *data, size_t size, const char **reason);
/* Bytes of an incomplete line held (0: between lines). */
size_t proto_framer_pending(const ProtoFramer *f);

typedef struct ProtoField {
        const char *key;
        const char *value; /* percent-decoded */
} ProtoField;

typedef struct ProtoMessage {
        const char *type;
        size_t n_fields;
        ProtoField fields[PROTO_FIELDS_MAX];
} ProtoMessage;

/*
 * Parses one line (without its newline) in place: line is cut into NUL-terminated
 * tokens and values are decoded in it, so *ret points into line. line[len] is
 * written too (the framer's lines have room for it). On -EBADMSG,
 * *reason (when given) says why in a few words, for the log.
 */
int proto_parse(char *line, size_t len, ProtoMessage *ret, const char **reason);

/* The value of key, or NULL. */
const char *proto_get(const ProtoMessage *m, const char *key);
int proto_get_u64(const ProtoMessage *m, const char *key, uint64_t *ret);
/* A u64 or "max" (PROTO_LIMIT_NONE). */
int proto_get_limit(const ProtoMessage *m, const char *key, uint64_t *ret);
int proto_get_fraction(const ProtoMessage *m, const char *key, double *ret);
int proto_get_level(const ProtoMessage *m, const char *key, ProtoLevel *ret);
/* Whether the comma-separated list in key holds word. */
bool proto_list_has(const ProtoMessage *m, const char *key, const char *word);

/* The same on a plain string. */
int proto_parse_u64(const char *s, uint64_t *ret);
int proto_parse_limit(const char *s, uint64_t *ret);
int proto_parse_fraction(const char *s, double *ret);

/*
 * Formatters write one complete line, newline included, NUL-terminated, and
 * return its length without the NUL; -ENOBUFS when buf is too small. A
 * buffer of PROTO_LINE_MAX + 1 bytes always fits.
 */

/* memgov -> agent */
int proto_format_welcome(char *buf, size_t size, unsigned version, unsigned id);
int proto_format_target(char *buf, size_t size, uint64_t seq, uint64_t bytes, ProtoLevel level);
/* gc, release, stats?, bye; shed uses level. */
int proto_format_request(char *buf, size_t size, uint64_t seq, ProtoRequest what, ProtoLevel level);

/* agent -> memgov */
typedef struct ProtoHello {
        unsigned version;
        const char *runtime;
        const char *runtime_version; /* NULL: left out */
        uint64_t pid;                /* 0: left out */
        const char *caps;            /* comma list, NULL: left out */
} ProtoHello;
int proto_format_hello(char *buf, size_t size, const ProtoHello *h);

typedef struct ProtoStats {
        uint64_t total_bytes;
        uint64_t heap_live_bytes;
        uint64_t gc_count;
        double gc_cpu_fraction; /* 0..1, written with 6 digits */
} ProtoStats;
int proto_format_stats(char *buf, size_t size, const ProtoStats *st);
/* at_us: the agent's CLOCK_MONOTONIC in microseconds once the runtime had the limit; 0 leaves it out. */
int proto_format_applied(char *buf, size_t size, uint64_t seq, uint64_t limit_bytes, uint64_t at_us);

/* Percent-encodes s as a value: every byte outside the safe set becomes %XX. */
int proto_encode_value(char *buf, size_t size, const char *s);

/*
 * Heap captures (docs/protocol.md, "Captures"): memgov sends
 *     capture seq=N kind=heap path=/var/lib/memgov/captures/memgov-app-1-20260101T120000.pprof
 * and the agent answers, when the file is written or has failed,
 *     captured seq=N path=... bytes=N        or        captured seq=N error=text
 */
#define PROTO_CAPTURE_PATH_MAX 1024u

/* The one kind there is: "heap". 0, or -EINVAL and *reason. */
int proto_check_capture_kind(const char *kind, const char **reason);
/* An absolute path of at most PROTO_CAPTURE_PATH_MAX bytes without "." or ".." components, not
 * ending in '/'. 0, or -EINVAL and *reason ("not absolute", ...). */
int proto_check_capture_path(const char *path, const char **reason);
/* -EINVAL for a kind or path the checks above refuse. */
int proto_format_capture(char *buf, size_t size, uint64_t seq, const char *kind, const char *path);

typedef struct ProtoCaptured {
        uint64_t seq;
        const char *path;  /* NULL when error */
        uint64_t bytes;    /* the file's size */
        const char *error; /* NULL on success */
} ProtoCaptured;
/*
 * Armed captures (docs/protocol.md, "Armed captures"): memgov sends
 *     arm seq=N kind=heap heap_live_above_bytes=B path=/abs/file
 * and the agent writes the capture itself at the end of the first GC cycle after which the live heap is
 * above B, answering captured seq=N as for a capture; a new arm replaces the old one, and
 *     disarm seq=N
 * removes it. The agent offers "arm" in hello's caps.
 */
/* -EINVAL for a kind or path proto_check_capture_*() refuse. */
int proto_format_arm(char *buf, size_t size, uint64_t seq, const char *kind, uint64_t heap_live_above_bytes,
                     const char *path);
int proto_format_disarm(char *buf, size_t size, uint64_t seq);

/* error NULL: success with path and bytes. */
int proto_format_captured(char *buf, size_t size, const ProtoCaptured *c);
/* -EBADMSG and *reason for a captured without seq=, with neither path= nor error=, or a bad bytes=. */
int proto_get_captured(const ProtoMessage *m, ProtoCaptured *ret, const char **reason);

/* gc-cycle count=N heap_goal_bytes=N heap_live_bytes=N gc_cpu_fraction=F: a sample of the runtime's
 * GC counters, sent when the count moved. count is required, the rest optional (0 when left out). */
typedef struct ProtoGcCycle {
        uint64_t count, heap_goal_bytes, heap_live_bytes;
        double gc_cpu_fraction;
} ProtoGcCycle;
int proto_get_gc_cycle(const ProtoMessage *m, ProtoGcCycle *ret, const char **reason);
