/* SPDX-License-Identifier: MIT */
/* The framer, parser, getters and formatters of policy/proto.c, table-driven. */
#include <errno.h>
#include <math.h>

#include "../../policy/macro.h"
#include "../../policy/proto.h"
#include "../unit/check.h"

typedef struct ParseCase {
        const char *name;
        const char *line; /* without the newline; may hold NULs when len is given */
        size_t len;       /* 0: strlen(line) */
        int ret;
        const char *type;
        size_t n_fields;
        const char *key, *value; /* one field to look at, or NULL */
} ParseCase;

static const ParseCase parse_cases[] = {
        {"type only", "bye", 0, 0, "bye", 0, NULL, NULL},
        {"stats?", "stats? seq=5", 0, 0, "stats?", 1, "seq", "5"},
        {"hello", "hello v=1 runtime=go version=go1.22.3 pid=42 caps=limit,gc", 0, 0, "hello", 5, "caps",
         "limit,gc"},
        {"empty value", "hello v=1 runtime=", 0, 0, "hello", 2, "runtime", ""},
        {"percent", "hello v=1 version=a%20b%25c%3Dd", 0, 0, "hello", 2, "version", "a b%c=d"},
        {"percent lowercase", "x k=%c3%a9", 0, 0, "x", 1, "k", "\xc3\xa9"},
        {"x- key", "stats total_bytes=1 x-go-goroutines=12", 0, 0, "stats", 2, "x-go-goroutines", "12"},
        {"safe charset", "x k=AZaz09._~,:/+-", 0, 0, "x", 1, "k", "AZaz09._~,:/+-"},
        {"empty line", "", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"leading space", " bye", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"trailing space", "bye ", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"two spaces", "target  seq=1", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"uppercase type", "Hello v=1", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"digit first", "1hello", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"? inside type", "st?ats", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"type too long", "abcdefghijabcdefghijabcdefghijabc", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"no =", "target seq", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"empty key", "target =1", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"uppercase key", "target Seq=1", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"space in value", "x k=a b", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"= in value", "x k=a=b", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"duplicate key", "target seq=1 seq=2", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"NUL byte", "bye\0x", 5, -EBADMSG, NULL, 0, NULL, NULL},
        {"tab", "bye\tx", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"CR", "bye\r", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"DEL", "x k=\x7f", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"raw UTF-8", "x k=\xc3\xa9", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"raw invalid byte", "x k=\xff", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"%00", "x k=%00", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"short percent", "x k=%4", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"bad hex", "x k=%zz", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"encoded control", "x k=%0a", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"encoded invalid UTF-8", "x k=%ff", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"encoded overlong", "x k=%c0%af", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"encoded surrogate", "x k=%ed%a0%80", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"truncated UTF-8", "x k=%e2%82", 0, -EBADMSG, NULL, 0, NULL, NULL},
        {"4-byte UTF-8", "x k=%f0%9f%98%80", 0, 0, "x", 1, "k", "\xf0\x9f\x98\x80"},
};

static void test_parse_table(void)
{
        for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
                const ParseCase *c = &parse_cases[i];
                size_t len = c->len ? c->len : strlen(c->line);
                char buf[PROTO_LINE_MAX + 1];
                const char *reason = NULL;
                ProtoMessage m;
                int r;

                memcpy(buf, c->line, len);
                buf[len] = '\0';
                r = proto_parse(buf, len, &m, &reason);
                CHECK(r == c->ret, "%s: got %d, want %d", c->name, r, c->ret);
                if (r < 0) {
                        CHECK(reason && *reason, "%s: no reason", c->name);
                        continue;
                }
                CHECK(strcmp(m.type, c->type) == 0, "%s: type %s", c->name, m.type);
                CHECK(m.n_fields == c->n_fields, "%s: %zu fields", c->name, m.n_fields);
                if (c->key) {
                        const char *v = proto_get(&m, c->key);
                        CHECK(v && strcmp(v, c->value) == 0, "%s: %s=%s", c->name, c->key, v ? v : "(null)");
                }
        }
}

static void test_parse_limits(void)
{
        char line[PROTO_LINE_MAX + 1];
        const char *reason;
        ProtoMessage m;
        size_t n;

        /* 32 fields fit, 33 do not. */
        n = (size_t)snprintf(line, sizeof(line), "x");
        for (unsigned i = 0; i < PROTO_FIELDS_MAX; i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " k%u=%u", i, i);
        CHECK(proto_parse(line, n, &m, &reason) == 0 && m.n_fields == PROTO_FIELDS_MAX, "32 fields");
        n = (size_t)snprintf(line, sizeof(line), "x");
        for (unsigned i = 0; i <= PROTO_FIELDS_MAX; i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " k%u=%u", i, i);
        CHECK(proto_parse(line, n, &m, &reason) == -EBADMSG, "33 fields");

        /* A key of 64 bytes fits, 65 does not. */
        memset(line, 'k', sizeof(line));
        memcpy(line, "x ", 2);
        line[2 + 64] = '=';
        line[2 + 64 + 1] = '1';
        CHECK(proto_parse(line, 2 + 64 + 2, &m, &reason) == 0, "key of 64");
        memset(line, 'k', sizeof(line));
        memcpy(line, "x ", 2);
        line[2 + 65] = '=';
        line[2 + 65 + 1] = '1';
        CHECK(proto_parse(line, 2 + 65 + 2, &m, &reason) == -EBADMSG, "key of 65");
}

typedef struct NumberCase {
        const char *s;
        int ret;
        uint64_t u64;
} NumberCase;

static const NumberCase u64_cases[] = {
        {"0", 0, 0},
        {"42", 0, 42},
        {"007", 0, 7},
        {"18446744073709551615", 0, UINT64_MAX},
        {"18446744073709551616", -ERANGE, 0},
        {"99999999999999999999999", -ERANGE, 0},
        {"", -EINVAL, 0},
        {"-1", -EINVAL, 0},
        {"+1", -EINVAL, 0},
        {"1x", -EINVAL, 0},
        {"1.5", -EINVAL, 0},
        {"max", -EINVAL, 0},
        {" 1", -EINVAL, 0},
};

static void test_u64(void)
{
        for (size_t i = 0; i < ELEMENTSOF(u64_cases); i++) {
                uint64_t v = 12345;
                int r = proto_parse_u64(u64_cases[i].s, &v);
                CHECK(r == u64_cases[i].ret, "u64 '%s': %d", u64_cases[i].s, r);
                if (r == 0)
                        CHECK(v == u64_cases[i].u64, "u64 '%s': %" PRIu64, u64_cases[i].s, v);
                else
                        CHECK(v == 12345, "u64 '%s': written on failure", u64_cases[i].s);
        }
        uint64_t v;
        CHECK(proto_parse_limit("max", &v) == 0 && v == PROTO_LIMIT_NONE, "limit max");
        CHECK(proto_parse_limit("1024", &v) == 0 && v == 1024, "limit number");
        CHECK(proto_parse_limit("maxi", &v) == -EINVAL, "limit maxi");
}

typedef struct FractionCase {
        const char *s;
        int ret;
        double value;
} FractionCase;

static const FractionCase fraction_cases[] = {
        {"0", 0, 0},
        {"1", 0, 1},
        {"0.5", 0, 0.5},
        {"0.0125", 0, 0.0125},
        {"12.25", 0, 12.25},
        {"0.123456789012345678", 0, 0.123456789012345678},
        {"0.1234567890123456789", -EINVAL, 0},
        {".5", -EINVAL, 0},
        {"1.", -EINVAL, 0},
        {"1e-3", -EINVAL, 0},
        {"-0.5", -EINVAL, 0},
        {"0,5", -EINVAL, 0},
        {"nan", -EINVAL, 0},
        {"", -EINVAL, 0},
        {"99999999999999999999999.0", -ERANGE, 0},
};

static void test_fraction(void)
{
        for (size_t i = 0; i < ELEMENTSOF(fraction_cases); i++) {
                double v = -1;
                int r = proto_parse_fraction(fraction_cases[i].s, &v);
                CHECK(r == fraction_cases[i].ret, "fraction '%s': %d", fraction_cases[i].s, r);
                if (r == 0)
                        CHECK(fabs(v - fraction_cases[i].value) < 1e-12, "fraction '%s': %g",
                              fraction_cases[i].s, v);
        }
}

static void test_getters(void)
{
        char line[] =
                "target seq=7 bytes=max level=elevated big=18446744073709551616 f=0.25 caps=gc,release";
        ProtoMessage m;
        ProtoLevel l;
        uint64_t v;
        double d;

        CHECK(proto_parse(line, strlen(line), &m, NULL) == 0, "parse");
        CHECK(proto_get_u64(&m, "seq", &v) == 0 && v == 7, "seq");
        CHECK(proto_get_limit(&m, "bytes", &v) == 0 && v == PROTO_LIMIT_NONE, "bytes max");
        CHECK(proto_get_u64(&m, "bytes", &v) == -EINVAL, "max is no u64");
        CHECK(proto_get_level(&m, "level", &l) == 0 && l == PROTO_LEVEL_ELEVATED, "level");
        CHECK(proto_get_level(&m, "seq", &l) == -EINVAL, "bad level");
        CHECK(proto_get_u64(&m, "big", &v) == -ERANGE, "overflow");
        CHECK(proto_get_u64(&m, "missing", &v) == -ENOENT, "missing");
        CHECK(proto_get_fraction(&m, "f", &d) == 0 && d == 0.25, "fraction");
        CHECK(proto_list_has(&m, "caps", "gc") && proto_list_has(&m, "caps", "release"), "caps");
        CHECK(!proto_list_has(&m, "caps", "g") && !proto_list_has(&m, "caps", "shed"), "caps prefix");
        CHECK(!proto_list_has(&m, "missing", "gc"), "caps missing");
}

static void test_framer_basic(void)
{
        static ProtoFramer f;
        const char input[] = "hello v=1\nstats total_bytes=5\npartial";
        char *line;
        size_t len;

        proto_framer_init(&f);
        CHECK(proto_framer_feed(&f, input, strlen(input)) == strlen(input), "feed");
        CHECK(proto_framer_next(&f, &line, &len) == 1 && len == 9 && strcmp(line, "hello v=1") == 0,
              "line 1");
        CHECK(proto_framer_next(&f, &line, &len) == 1 && strcmp(line, "stats total_bytes=5") == 0, "line 2");
        CHECK(proto_framer_next(&f, &line, &len) == 0, "no third line yet");
        CHECK(proto_framer_pending(&f) == 7, "partial held: %zu", proto_framer_pending(&f));
        proto_framer_feed(&f, " line\n\n", 7);
        CHECK(proto_framer_next(&f, &line, &len) == 1 && strcmp(line, "partial line") == 0, "line 3");
        CHECK(proto_framer_next(&f, &line, &len) == 1 && len == 0, "empty line is a line");
        CHECK(proto_framer_next(&f, &line, &len) == 0 && proto_framer_pending(&f) == 0, "drained");
}

/* Byte by byte gives the same lines as all at once. */
static void test_framer_byte_by_byte(void)
{
        static ProtoFramer f;
        const char input[] = "a\nbb k=v\n\nccc\n";
        const char *want[] = {"a", "bb k=v", "", "ccc"};
        size_t got = 0;
        char *line;
        size_t len;

        proto_framer_init(&f);
        for (size_t i = 0; i < strlen(input); i++) {
                CHECK(proto_framer_feed(&f, input + i, 1) == 1, "feed byte %zu", i);
                while (proto_framer_next(&f, &line, &len) == 1) {
                        CHECK(got < ELEMENTSOF(want) && strcmp(line, want[got]) == 0, "line %zu: %s", got,
                              line);
                        got++;
                }
        }
        CHECK(got == ELEMENTSOF(want), "%zu lines", got);
}

static void test_framer_bounds(void)
{
        static ProtoFramer f;
        static char big[PROTO_LINE_MAX + 2];
        char *line, *p;
        size_t len;

        /* 4095 bytes plus the newline: exactly the maximum. */
        memset(big, 'a', sizeof(big));
        big[PROTO_LINE_MAX - 1] = '\n';
        proto_framer_init(&f);
        CHECK(proto_framer_feed(&f, big, PROTO_LINE_MAX) == PROTO_LINE_MAX, "max fits");
        CHECK(proto_framer_next(&f, &line, &len) == 1 && len == PROTO_LINE_MAX - 1, "max line");

        /* One byte more never fits: the framer says so once it holds 4096 bytes without a newline. */
        memset(big, 'a', sizeof(big));
        big[PROTO_LINE_MAX] = '\n';
        proto_framer_init(&f);
        CHECK(proto_framer_feed(&f, big, PROTO_LINE_MAX + 1) == PROTO_LINE_MAX, "only 4096 taken");
        CHECK(proto_framer_next(&f, &line, &len) == -EMSGSIZE, "over-long");
        CHECK(proto_framer_space(&f, &p) == 0, "no space after the error");

        /* A line after others, straddling the buffer's end, is compacted and still found. */
        proto_framer_init(&f);
        memset(big, 'b', sizeof(big));
        big[9] = '\n';
        CHECK(proto_framer_feed(&f, big, PROTO_LINE_MAX) == PROTO_LINE_MAX, "fill");
        CHECK(proto_framer_next(&f, &line, &len) == 1 && len == 9, "short line");
        CHECK(proto_framer_next(&f, &line, &len) == 0, "rest incomplete, compacted");
        CHECK(proto_framer_feed(&f, "\n", 1) == 1, "newline fits after compaction");
        CHECK(proto_framer_next(&f, &line, &len) == 1 && len == PROTO_LINE_MAX - 10, "long line: %zu", len);
}

static void test_format(void)
{
        char buf[PROTO_LINE_MAX + 1], small[8];
        ProtoMessage m;
        uint64_t v;
        double d;
        ProtoLevel l;
        int n;

        n = proto_format_welcome(buf, sizeof(buf), 1, 3);
        CHECK(n > 0 && strcmp(buf, "welcome v=1 id=3\n") == 0, "welcome: %s", buf);
        n = proto_format_target(buf, sizeof(buf), 9, 1u << 30, PROTO_LEVEL_CRITICAL);
        CHECK(n > 0 && strcmp(buf, "target seq=9 bytes=1073741824 level=critical\n") == 0, "target: %s",
              buf);
        n = proto_format_target(buf, sizeof(buf), 1, PROTO_LIMIT_NONE, PROTO_LEVEL_OK);
        CHECK(n > 0 && strcmp(buf, "target seq=1 bytes=max level=ok\n") == 0, "target max: %s", buf);
        CHECK(proto_format_target(buf, sizeof(buf), 1, 1, (ProtoLevel)7) == -EINVAL, "bad level");
        CHECK(proto_format_target(small, sizeof(small), 1, 1, PROTO_LEVEL_OK) == -ENOBUFS, "small buffer");

        static const struct {
                ProtoRequest what;
                const char *want;
        } requests[] = {
                {PROTO_REQUEST_GC, "gc seq=4\n"},
                {PROTO_REQUEST_RELEASE, "release seq=4\n"},
                {PROTO_REQUEST_SHED, "shed seq=4 level=elevated\n"},
                {PROTO_REQUEST_STATS, "stats? seq=4\n"},
                {PROTO_REQUEST_BYE, "bye seq=4\n"},
        };
        for (size_t i = 0; i < ELEMENTSOF(requests); i++) {
                n = proto_format_request(buf, sizeof(buf), 4, requests[i].what, PROTO_LEVEL_ELEVATED);
                CHECK(n == (int)strlen(requests[i].want) && strcmp(buf, requests[i].want) == 0,
                      "request %zu: %s", i, buf);
        }

        ProtoHello h = {
                .version = 1, .runtime = "c", .runtime_version = "gcc 12 (Debian)", .pid = 7, .caps = "gc"};
        n = proto_format_hello(buf, sizeof(buf), &h);
        CHECK(n > 0 && strcmp(buf, "hello v=1 runtime=c version=gcc%2012%20%28Debian%29 pid=7 caps=gc\n") ==
                               0,
              "hello: %s", buf);
        /* What is formatted parses back to the same values. */
        buf[n - 1] = '\0';
        CHECK(proto_parse(buf, (size_t)n - 1, &m, NULL) == 0, "hello parses");
        CHECK(strcmp(proto_get(&m, "version"), "gcc 12 (Debian)") == 0, "version round trip");

        ProtoStats st = {
                .total_bytes = 100, .heap_live_bytes = 50, .gc_count = 3, .gc_cpu_fraction = 0.0125};
        n = proto_format_stats(buf, sizeof(buf), &st);
        CHECK(n > 0 &&
                      strcmp(buf,
                             "stats total_bytes=100 heap_live_bytes=50 gc_count=3 gc_cpu_fraction=0.012500\n") ==
                              0,
              "stats: %s", buf);
        buf[n - 1] = '\0';
        CHECK(proto_parse(buf, (size_t)n - 1, &m, NULL) == 0 &&
                      proto_get_fraction(&m, "gc_cpu_fraction", &d) == 0 && fabs(d - 0.0125) < 1e-9,
              "stats round trip");
        st.gc_cpu_fraction = NAN;
        n = proto_format_stats(buf, sizeof(buf), &st);
        CHECK(n > 0 && strstr(buf, "gc_cpu_fraction=0.000000\n"), "NaN: %s", buf);

        n = proto_format_applied(buf, sizeof(buf), 12, 5000, 0);
        CHECK(n > 0 && strcmp(buf, "applied seq=12 limit_bytes=5000\n") == 0, "applied: %s", buf);
        n = proto_format_applied(buf, sizeof(buf), 12, 5000, 7000123);
        CHECK(n > 0 && strcmp(buf, "applied seq=12 limit_bytes=5000 at_us=7000123\n") == 0,
              "applied at_us: %s", buf);
        buf[n - 1] = '\0';
        CHECK(proto_parse(buf, (size_t)n - 1, &m, NULL) == 0 && proto_get_u64(&m, "seq", &v) == 0 && v == 12,
              "applied round trip");

        n = proto_format_request(buf, sizeof(buf), 1, PROTO_REQUEST_SHED, PROTO_LEVEL_CRITICAL);
        buf[n - 1] = '\0';
        CHECK(proto_parse(buf, (size_t)n - 1, &m, NULL) == 0 && proto_get_level(&m, "level", &l) == 0 &&
                      l == PROTO_LEVEL_CRITICAL,
              "shed round trip");
}

static void test_check_bytes(void)
{
        const char *reason = NULL;

        CHECK(proto_check_bytes("hello v=1\nstats x=1\n", 20, &reason) == 0, "text and newlines");
        CHECK(proto_check_bytes("\x00\x00\x00\x01", 4, &reason) == -EBADMSG && reason, "binary header");
        CHECK(proto_check_bytes("ok\xc3\xa9", 4, &reason) == -EBADMSG, "raw UTF-8");
        CHECK(proto_check_bytes("ok\r\n", 4, &reason) == -EBADMSG, "CR");
        CHECK(proto_check_bytes("", 0, &reason) == 0, "nothing");
}

static void test_encode(void)
{
        char buf[64];

        CHECK(proto_encode_value(buf, sizeof(buf), "a b=c%\n\xc3\xa9") == 21 &&
                      strcmp(buf, "a%20b%3Dc%25%0A%C3%A9") == 0,
              "encode: %s", buf);
        CHECK(proto_encode_value(buf, 4, "abcd") == -ENOBUFS, "encode small");
        CHECK(proto_encode_value(buf, 5, "abcd") == 4, "encode exact");
        CHECK(proto_encode_value(buf, 3, "%") == -ENOBUFS, "escape does not fit");
}

static ProtoMessage parsed(char *buf, int n)
{
        ProtoMessage m = {0};

        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        (void)proto_parse(buf, n > 0 ? (size_t)n : 0, &m, NULL);
        return m;
}

static void test_capture(void)
{
        static const struct {
                const char *path, *kind;
                const char *reason; /* NULL: accepted */
        } cases[] = {
                {"/var/lib/memgov/captures/memgov-a-1.pprof", "heap", NULL},
                {"/tmp/with space.hprof", "heap", NULL},
                {"relative.pprof", "heap", "capture path not absolute"},
                {"", "heap", "capture path missing"},
                {"/tmp/../etc/passwd", "heap", "capture path with a . or .. component"},
                {"/tmp/./x", "heap", "capture path with a . or .. component"},
                {"/tmp/..", "heap", "capture path with a . or .. component"},
                {"/tmp/dir/", "heap", "capture path names a directory"},
                {"/tmp/..x", "heap", NULL},
                {"/tmp/x.pprof", "goroutines", "unknown capture kind (only heap is known)"},
                {"/tmp/x.pprof", "", "capture kind missing"},
        };
        char buf[PROTO_LINE_MAX + 1], longpath[PROTO_CAPTURE_PATH_MAX + 2];
        const char *reason;
        ProtoCaptured c;
        ProtoGcCycle g;
        ProtoMessage m;
        int n;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                reason = NULL;
                int r = proto_check_capture_kind(cases[i].kind, &reason);
                if (r == 0)
                        r = proto_check_capture_path(cases[i].path, &reason);
                n = proto_format_capture(buf, sizeof(buf), 9, cases[i].kind, cases[i].path);
                if (!cases[i].reason)
                        CHECK(r == 0 && n > 0, "%s accepted", cases[i].path);
                else
                        CHECK(r == -EINVAL && n == -EINVAL && reason && strcmp(reason, cases[i].reason) == 0,
                              "%s/%s: %s", cases[i].path, cases[i].kind, reason ? reason : "(none)");
        }
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        CHECK(proto_check_capture_path(longpath, &reason) == -EINVAL, "too long");
        CHECK(proto_check_capture_path(NULL, &reason) == -EINVAL, "NULL");

        n = proto_format_capture(buf, sizeof(buf), 9, "heap", "/tmp/with space.hprof");
        CHECK(n > 0 && strcmp(buf, "capture seq=9 kind=heap path=/tmp/with%20space.hprof\n") == 0, "%s",
              buf);
        m = parsed(buf, n);
        CHECK(m.type && strcmp(m.type, "capture") == 0 &&
                      strcmp(proto_get(&m, "path"), "/tmp/with space.hprof") == 0,
              "capture round trip");

        n = proto_format_arm(buf, sizeof(buf), 10, "heap", 230686720, "/tmp/with space.pprof");
        CHECK(n > 0 &&
                      strcmp(buf,
                             "arm seq=10 kind=heap heap_live_above_bytes=230686720 path=/tmp/with%20space.pprof\n") ==
                              0,
              "%s", buf);
        m = parsed(buf, n);
        CHECK(m.type && strcmp(m.type, "arm") == 0 &&
                      strcmp(proto_get(&m, "path"), "/tmp/with space.pprof") == 0,
              "arm round trip");
        CHECK(proto_format_arm(buf, sizeof(buf), 10, "heap", 1, "rel.pprof") == -EINVAL,
              "arm, relative path");
        CHECK(proto_format_arm(buf, sizeof(buf), 10, "threads", 1, "/tmp/x") == -EINVAL,
              "arm, unknown kind");
        n = proto_format_disarm(buf, sizeof(buf), 11);
        CHECK(n > 0 && strcmp(buf, "disarm seq=11\n") == 0, "%s", buf);

        n = proto_format_captured(buf, sizeof(buf),
                                  &(ProtoCaptured){.seq = 9, .path = "/tmp/a b", .bytes = 77});
        CHECK(n > 0 && strcmp(buf, "captured seq=9 path=/tmp/a%20b bytes=77\n") == 0, "%s", buf);
        m = parsed(buf, n);
        CHECK(proto_get_captured(&m, &c, &reason) == 0 && c.seq == 9 && c.bytes == 77 && !c.error &&
                      strcmp(c.path, "/tmp/a b") == 0,
              "captured round trip");
        n = proto_format_captured(buf, sizeof(buf), &(ProtoCaptured){.seq = 3, .error = "disk full"});
        CHECK(n > 0 && strcmp(buf, "captured seq=3 error=disk%20full\n") == 0, "%s", buf);
        m = parsed(buf, n);
        CHECK(proto_get_captured(&m, &c, &reason) == 0 && !c.path && strcmp(c.error, "disk full") == 0,
              "error");

        strcpy(buf, "captured path=/x");
        m = parsed(buf, (int)strlen(buf));
        CHECK(proto_get_captured(&m, &c, &reason) == -EBADMSG &&
                      strcmp(reason, "captured without a valid seq=") == 0,
              "no seq");
        strcpy(buf, "captured seq=1");
        m = parsed(buf, (int)strlen(buf));
        CHECK(proto_get_captured(&m, &c, &reason) == -EBADMSG &&
                      strcmp(reason, "captured with neither path= nor error=") == 0,
              "neither");
        strcpy(buf, "captured seq=1 path=/x bytes=-1");
        m = parsed(buf, (int)strlen(buf));
        CHECK(proto_get_captured(&m, &c, &reason) == -EBADMSG, "bad bytes");

        strcpy(buf, "gc-cycle count=12 heap_goal_bytes=100 heap_live_bytes=50 gc_cpu_fraction=0.25");
        m = parsed(buf, (int)strlen(buf));
        CHECK(proto_get_gc_cycle(&m, &g, &reason) == 0 && g.count == 12 && g.heap_goal_bytes == 100 &&
                      g.heap_live_bytes == 50 && fabs(g.gc_cpu_fraction - 0.25) < 1e-9,
              "gc-cycle");
        strcpy(buf, "gc-cycle heap_goal_bytes=100");
        m = parsed(buf, (int)strlen(buf));
        CHECK(proto_get_gc_cycle(&m, &g, &reason) == -EBADMSG, "gc-cycle without count");
        strcpy(buf, "gc-cycle count=1 heap_live_bytes=x");
        m = parsed(buf, (int)strlen(buf));
        CHECK(proto_get_gc_cycle(&m, &g, &reason) == -EBADMSG, "gc-cycle bad number");
}

int main(void)
{
        test_parse_table();
        test_parse_limits();
        test_u64();
        test_fraction();
        test_getters();
        test_framer_basic();
        test_framer_byte_by_byte();
        test_framer_bounds();
        test_format();
        test_check_bytes();
        test_encode();
        test_capture();
        return check_finish("test-proto");
}
