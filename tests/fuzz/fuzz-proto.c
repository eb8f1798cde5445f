/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the protocol framer and parser. The input is a byte
 * stream as a peer would send it; the first byte picks the chunk size it
 * arrives in. Every line the framer yields is parsed; every message that
 * parses must survive a round trip (re-encoded values parse back unchanged),
 * and the getters must not crash on it. A broken invariant aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/proto.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const ProtoMessage *m)
{
        static char line[PROTO_LINE_MAX * 3 + 64];
        char value[PROTO_LINE_MAX * 3 + 1];
        ProtoMessage back;
        size_t n;

        n = (size_t)snprintf(line, sizeof(line), "%s", m->type);
        for (size_t i = 0; i < m->n_fields; i++) {
                REQUIRE(proto_encode_value(value, sizeof(value), m->fields[i].value) >= 0);
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%s", m->fields[i].key, value);
        }
        REQUIRE(n < sizeof(line));
        /* Decoding only shrinks, so encoding may grow past the line limit: then there is nothing to compare.
         */
        if (n + 1 > PROTO_LINE_MAX)
                return;
        REQUIRE(proto_parse(line, n, &back, NULL) == 0);
        REQUIRE(back.n_fields == m->n_fields);
        REQUIRE(strcmp(back.type, m->type) == 0);
        for (size_t i = 0; i < m->n_fields; i++) {
                REQUIRE(strcmp(back.fields[i].key, m->fields[i].key) == 0);
                REQUIRE(strcmp(back.fields[i].value, m->fields[i].value) == 0);
        }
}

/* The capture messages: whatever the agent sends, an answer is either an error or a path, and a request
 * memgov would send is one the checks accept. */
static void check_capture(const ProtoMessage *m)
{
        char line[PROTO_LINE_MAX + 1];
        const char *reason = NULL;
        ProtoCaptured c;
        ProtoGcCycle g;

        if (proto_get_captured(m, &c, &reason) == 0)
                REQUIRE((c.error != NULL) != (c.path != NULL));
        else
                REQUIRE(reason != NULL);
        reason = NULL;
        if (proto_get_gc_cycle(m, &g, &reason) == 0)
                REQUIRE(g.gc_cpu_fraction >= 0);
        else
                REQUIRE(reason != NULL);
        const char *path = proto_get(m, "path"), *kind = proto_get(m, "kind");
        bool ok =
                proto_check_capture_kind(kind, &reason) == 0 && proto_check_capture_path(path, &reason) == 0;
        int n = proto_format_capture(line, sizeof(line), 1, kind, path);
        REQUIRE(ok ? n > 0 : n == -EINVAL);
}

static void check_getters(const ProtoMessage *m)
{
        static const char *const keys[] = {"v",   "seq", "bytes", "level", "total_bytes", "gc_cpu_fraction",
                                           "caps"};
        ProtoLevel l;
        uint64_t u;
        double d;

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                (void)proto_get_u64(m, keys[i], &u);
                (void)proto_get_limit(m, keys[i], &u);
                if (proto_get_fraction(m, keys[i], &d) == 0)
                        REQUIRE(d >= 0);
                if (proto_get_level(m, keys[i], &l) == 0)
                        REQUIRE(proto_level_to_string(l) != NULL);
                (void)proto_list_has(m, keys[i], "gc");
        }
        check_capture(m);
}

static void handle_line(char *line, size_t len)
{
        const char *reason = NULL;
        ProtoMessage m;
        int r;

        REQUIRE(len < PROTO_LINE_MAX);
        r = proto_parse(line, len, &m, &reason);
        if (r < 0) {
                REQUIRE(r == -EBADMSG && reason);
                return;
        }
        REQUIRE(m.type && m.type[0] && m.n_fields <= PROTO_FIELDS_MAX);
        check_getters(&m);
        check_round_trip(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static ProtoFramer f;
        size_t chunk, off = 0;

        if (size == 0)
                return 0;
        chunk = (size_t)data[0] % 64 + 1;
        data++, size--;

        proto_framer_init(&f);
        while (off < size) {
                size_t want = size - off < chunk ? size - off : chunk, took;
                char *line;
                size_t len;
                int r;

                took = proto_framer_feed(&f, data + off, want);
                off += took;
                while ((r = proto_framer_next(&f, &line, &len)) > 0)
                        handle_line(line, len);
                if (r < 0) {
                        REQUIRE(r == -EMSGSIZE && proto_framer_pending(&f) == PROTO_LINE_MAX);
                        break;
                }
                REQUIRE(took > 0 || want == 0);
                REQUIRE(proto_framer_pending(&f) < PROTO_LINE_MAX);
        }
        return 0;
}
