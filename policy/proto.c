/* SPDX-License-Identifier: MIT */
#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

static const char *const level_names[_PROTO_LEVEL_MAX] = {
        [PROTO_LEVEL_OK] = "ok",
        [PROTO_LEVEL_ELEVATED] = "elevated",
        [PROTO_LEVEL_CRITICAL] = "critical",
};

static const char *const request_names[_PROTO_REQUEST_MAX] = {
        [PROTO_REQUEST_GC] = "gc",        [PROTO_REQUEST_RELEASE] = "release", [PROTO_REQUEST_SHED] = "shed",
        [PROTO_REQUEST_STATS] = "stats?", [PROTO_REQUEST_BYE] = "bye",
};

const char *proto_level_to_string(ProtoLevel l)
{
        return (unsigned)l < _PROTO_LEVEL_MAX ? level_names[l] : NULL;
}

int proto_level_from_string(const char *s, ProtoLevel *ret)
{
        for (unsigned i = 0; i < _PROTO_LEVEL_MAX; i++)
                if (strcmp(s, level_names[i]) == 0) {
                        *ret = (ProtoLevel)i;
                        return 0;
                }
        return -EINVAL;
}

const char *proto_request_to_string(ProtoRequest r)
{
        return (unsigned)r < _PROTO_REQUEST_MAX ? request_names[r] : NULL;
}

void proto_framer_init(ProtoFramer *f)
{
        f->start = f->scan = f->len = 0;
}

size_t proto_framer_space(ProtoFramer *f, char **ret_ptr)
{
        *ret_ptr = f->buf + f->len;
        return sizeof(f->buf) - f->len;
}

void proto_framer_commit(ProtoFramer *f, size_t n)
{
        f->len += n;
}

size_t proto_framer_feed(ProtoFramer *f, const void *data, size_t size)
{
        char *p;
        size_t room = proto_framer_space(f, &p);

        if (size > room)
                size = room;
        memcpy(p, data, size);
        proto_framer_commit(f, size);
        return size;
}

int proto_framer_next(ProtoFramer *f, char **ret_line, size_t *ret_len)
{
        char *begin = f->buf + f->start;
        char *nl = memchr(begin + f->scan, '\n', f->len - f->start - f->scan);

        if (nl) {
                *nl = '\0';
                *ret_line = begin;
                *ret_len = (size_t)(nl - begin);
                f->start = (size_t)(nl - f->buf) + 1;
                f->scan = 0;
                return 1;
        }
        f->scan = f->len - f->start;
        /* The whole buffer is one line without its end: it cannot fit with its newline. */
        if (f->scan >= sizeof(f->buf))
                return -EMSGSIZE;
        memmove(f->buf, begin, f->scan);
        f->start = 0;
        f->len = f->scan;
        return 0;
}

size_t proto_framer_pending(const ProtoFramer *f)
{
        return f->len - f->start;
}

static bool is_lower(char c)
{
        return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
        return is_lower(c) || is_digit(c) || c == '_' || c == '-';
}

static bool is_safe(char c)
{
        return is_name_char(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '~' || c == ',' || c == ':' ||
               c == '/' || c == '+';
}

static int hex_value(char c)
{
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF) without control characters. */
static bool utf8_text_valid(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                uint32_t cp;
                size_t k;

                if (c < 0x80) {
                        if (c < 0x20 || c == 0x7f)
                                return false;
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        k = 1, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        k = 2, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        k = 3, cp = c & 0x07;
                else
                        return false;
                if (n - i - 1 < k)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + j] & 0x3f);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
                        return false;
                i += k + 1;
        }
        return true;
}

static int fail(const char **reason, const char *why)
{
        if (reason)
                *reason = why;
        return -EBADMSG;
}

static int check_bytes(const char *data, size_t len, bool newlines, const char **reason)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)data[i];
                if (c == '\n' && newlines)
                        continue;
                if (c == 0)
                        return fail(reason, "NUL byte");
                if (c >= 0x80)
                        return fail(reason, "byte outside ASCII (text must be percent-encoded)");
                if (c < 0x20 || c == 0x7f)
                        return fail(reason, "control byte");
        }
        return 0;
}

int proto_check_bytes(const char *data, size_t size, const char **reason)
{
        return check_bytes(data, size, true, reason);
}

static int parse_type(const char *s, size_t n, const char **reason)
{
        if (n == 0)
                return fail(reason, "missing message type");
        if (n > PROTO_TYPE_MAX)
                return fail(reason, "message type too long");
        if (!is_lower(s[0]))
                return fail(reason, "message type must start with a lowercase letter");
        for (size_t i = 1; i < n; i++)
                if (!is_name_char(s[i]) && !(s[i] == '?' && i == n - 1))
                        return fail(reason, "bad character in message type");
        return 0;
}

/* Decodes value in place (the result is never longer) and NUL-terminates it. */
static int decode_value(char *v, size_t n, const char **reason)
{
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                if (is_safe(v[i])) {
                        v[o++] = v[i];
                        continue;
                }
                if (v[i] != '%')
                        return fail(reason, "character not allowed in a value (percent-encode it)");
                if (n - i < 3)
                        return fail(reason, "bad percent-encoding");
                int hi = hex_value(v[i + 1]), lo = hex_value(v[i + 2]);
                if (hi < 0 || lo < 0)
                        return fail(reason, "bad percent-encoding");
                if (hi == 0 && lo == 0)
                        return fail(reason, "%00 in a value");
                v[o++] = (char)(hi << 4 | lo);
                i += 2;
        }
        v[o] = '\0';
        if (!utf8_text_valid((const unsigned char *)v, o))
                return fail(reason, "value is not UTF-8 text");
        return 0;
}

static int parse_field(char *tok, size_t n, ProtoMessage *m, const char **reason)
{
        char *eq = memchr(tok, '=', n);
        size_t klen;

        if (!eq)
                return fail(reason, "key without '='");
        klen = (size_t)(eq - tok);
        if (klen == 0)
                return fail(reason, "empty key");
        if (klen > PROTO_KEY_MAX)
                return fail(reason, "key too long");
        if (!is_lower(tok[0]))
                return fail(reason, "key must start with a lowercase letter");
        for (size_t i = 1; i < klen; i++)
                if (!is_name_char(tok[i]))
                        return fail(reason, "bad character in key");
        *eq = '\0';
        for (size_t i = 0; i < m->n_fields; i++)
                if (strcmp(m->fields[i].key, tok) == 0)
                        return fail(reason, "duplicate key");
        if (m->n_fields >= PROTO_FIELDS_MAX)
                return fail(reason, "too many key=value pairs");
        int r = decode_value(eq + 1, n - klen - 1, reason);
        if (r < 0)
                return r;
        m->fields[m->n_fields++] = (ProtoField){.key = tok, .value = eq + 1};
        return 0;
}

int proto_parse(char *line, size_t len, ProtoMessage *ret, const char **reason)
{
        ProtoMessage m = {};
        char *p, *end = line + len;
        int r;

        if (len == 0)
                return fail(reason, "empty line");
        r = check_bytes(line, len, false, reason);
        if (r < 0)
                return r;

        p = memchr(line, ' ', len);
        if (!p)
                p = end;
        r = parse_type(line, (size_t)(p - line), reason);
        if (r < 0)
                return r;
        m.type = line;

        while (p < end) {
                char *tok = p + 1, *sp;

                *p = '\0';
                sp = memchr(tok, ' ', (size_t)(end - tok));
                if (!sp)
                        sp = end;
                if (sp == tok)
                        return fail(reason, sp == end ? "trailing space" : "two spaces in a row");
                r = parse_field(tok, (size_t)(sp - tok), &m, reason);
                if (r < 0)
                        return r;
                p = sp;
        }
        *end = '\0';
        *ret = m;
        return 0;
}

const char *proto_get(const ProtoMessage *m, const char *key)
{
        for (size_t i = 0; i < m->n_fields; i++)
                if (strcmp(m->fields[i].key, key) == 0)
                        return m->fields[i].value;
        return NULL;
}

int proto_parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                unsigned d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        if (*s != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int proto_parse_limit(const char *s, uint64_t *ret)
{
        if (strcmp(s, "max") == 0) {
                *ret = PROTO_LIMIT_NONE;
                return 0;
        }
        return proto_parse_u64(s, ret);
}

int proto_parse_fraction(const char *s, double *ret)
{
        uint64_t whole = 0, frac = 0, scale = 1;
        unsigned digits = 0;

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                unsigned d = (unsigned)(*s - '0');
                if (whole > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                whole = whole * 10 + d;
        }
        if (*s == '.') {
                for (s++; is_digit(*s); s++) {
                        if (++digits > PROTO_FRACTION_MAX)
                                return -EINVAL;
                        frac = frac * 10 + (unsigned)(*s - '0');
                        scale *= 10;
                }
                if (digits == 0)
                        return -EINVAL;
        }
        if (*s != '\0')
                return -EINVAL;
        *ret = (double)whole + (double)frac / (double)scale;
        return 0;
}

int proto_get_u64(const ProtoMessage *m, const char *key, uint64_t *ret)
{
        const char *v = proto_get(m, key);
        return v ? proto_parse_u64(v, ret) : -ENOENT;
}

int proto_get_limit(const ProtoMessage *m, const char *key, uint64_t *ret)
{
        const char *v = proto_get(m, key);
        return v ? proto_parse_limit(v, ret) : -ENOENT;
}

int proto_get_fraction(const ProtoMessage *m, const char *key, double *ret)
{
        const char *v = proto_get(m, key);
        return v ? proto_parse_fraction(v, ret) : -ENOENT;
}

int proto_get_level(const ProtoMessage *m, const char *key, ProtoLevel *ret)
{
        const char *v = proto_get(m, key);
        return v ? proto_level_from_string(v, ret) : -ENOENT;
}

bool proto_list_has(const ProtoMessage *m, const char *key, const char *word)
{
        const char *v = proto_get(m, key);
        size_t n = strlen(word);

        while (v && *v) {
                const char *comma = strchr(v, ',');
                size_t len = comma ? (size_t)(comma - v) : strlen(v);
                if (len == n && memcmp(v, word, n) == 0)
                        return true;
                v = comma ? comma + 1 : NULL;
        }
        return false;
}

_printf_(3, 4) static int format_line(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= size || (size_t)n > PROTO_LINE_MAX)
                return -ENOBUFS;
        return n;
}

static const char *limit_text(uint64_t v, char buf[static 21])
{
        if (v == PROTO_LIMIT_NONE)
                return "max";
        snprintf(buf, 21, "%" PRIu64, v);
        return buf;
}

int proto_format_welcome(char *buf, size_t size, unsigned version, unsigned id)
{
        return format_line(buf, size, "welcome v=%u id=%u\n", version, id);
}

int proto_format_target(char *buf, size_t size, uint64_t seq, uint64_t bytes, ProtoLevel level)
{
        char b[21];

        if (!proto_level_to_string(level))
                return -EINVAL;
        return format_line(buf, size, "target seq=%" PRIu64 " bytes=%s level=%s\n", seq,
                           limit_text(bytes, b), proto_level_to_string(level));
}

int proto_format_request(char *buf, size_t size, uint64_t seq, ProtoRequest what, ProtoLevel level)
{
        const char *type = proto_request_to_string(what);

        if (!type)
                return -EINVAL;
        if (what == PROTO_REQUEST_SHED) {
                if (!proto_level_to_string(level))
                        return -EINVAL;
                return format_line(buf, size, "shed seq=%" PRIu64 " level=%s\n", seq,
                                   proto_level_to_string(level));
        }
        return format_line(buf, size, "%s seq=%" PRIu64 "\n", type, seq);
}

int proto_encode_value(char *buf, size_t size, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t o = 0;

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (is_safe((char)c)) {
                        if (o + 1 >= size)
                                return -ENOBUFS;
                        buf[o++] = (char)c;
                } else {
                        if (o + 3 >= size)
                                return -ENOBUFS;
                        buf[o++] = '%';
                        buf[o++] = hex[c >> 4];
                        buf[o++] = hex[c & 15];
                }
        }
        if (o >= size)
                return -ENOBUFS;
        buf[o] = '\0';
        return (int)o;
}

int proto_format_hello(char *buf, size_t size, const ProtoHello *h)
{
        char runtime[256], version[256], caps[256], pid[32] = "";
        int r;

        r = proto_encode_value(runtime, sizeof(runtime), h->runtime ? h->runtime : "");
        if (r < 0)
                return r;
        r = proto_encode_value(version, sizeof(version), h->runtime_version ? h->runtime_version : "");
        if (r < 0)
                return r;
        r = proto_encode_value(caps, sizeof(caps), h->caps ? h->caps : "");
        if (r < 0)
                return r;
        if (h->pid > 0)
                snprintf(pid, sizeof(pid), " pid=%" PRIu64, h->pid);
        return format_line(buf, size, "hello v=%u runtime=%s%s%s%s%s%s\n", h->version, runtime,
                           h->runtime_version ? " version=" : "", h->runtime_version ? version : "", pid,
                           h->caps ? " caps=" : "", h->caps ? caps : "");
}

int proto_format_stats(char *buf, size_t size, const ProtoStats *st)
{
        double f = st->gc_cpu_fraction;
        uint64_t micro;

        /* By hand rather than %f: a program that called setlocale() would get a decimal comma. */
        if (!(f >= 0)) /* also NaN */
                f = 0;
        if (f > 1e6)
                f = 1e6;
        micro = (uint64_t)(f * 1e6 + 0.5);
        return format_line(buf, size,
                           "stats total_bytes=%" PRIu64 " heap_live_bytes=%" PRIu64 " gc_count=%" PRIu64
                           " gc_cpu_fraction=%" PRIu64 ".%06" PRIu64 "\n",
                           st->total_bytes, st->heap_live_bytes, st->gc_count, micro / 1000000,
                           micro % 1000000);
}

int proto_format_applied(char *buf, size_t size, uint64_t seq, uint64_t limit_bytes, uint64_t at_us)
{
        char b[21];

        if (at_us == 0)
                return format_line(buf, size, "applied seq=%" PRIu64 " limit_bytes=%s\n", seq,
                                   limit_text(limit_bytes, b));
        return format_line(buf, size, "applied seq=%" PRIu64 " limit_bytes=%s at_us=%" PRIu64 "\n", seq,
                           limit_text(limit_bytes, b), at_us);
}

int proto_check_capture_kind(const char *kind, const char **reason)
{
        if (kind && strcmp(kind, "heap") == 0)
                return 0;
        *reason = kind && *kind ? "unknown capture kind (only heap is known)" : "capture kind missing";
        return -EINVAL;
}

int proto_check_capture_path(const char *path, const char **reason)
{
        size_t n = path ? strlen(path) : 0;

        if (n == 0)
                *reason = "capture path missing";
        else if (path[0] != '/')
                *reason = "capture path not absolute";
        else if (n > PROTO_CAPTURE_PATH_MAX)
                *reason = "capture path longer than 1024 bytes";
        else if (path[n - 1] == '/')
                *reason = "capture path names a directory";
        else {
                for (const char *p = path; p; p = strchr(p + 1, '/'))
                        if (strncmp(p, "/./", 3) == 0 || strcmp(p, "/.") == 0 ||
                            strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
                                *reason = "capture path with a . or .. component";
                                return -EINVAL;
                        }
                return 0;
        }
        return -EINVAL;
}

/* kind and path checked, path encoded into value: what capture and arm carry alike. */
static int encode_capture_target(const char *kind, const char *path, char *value, size_t size)
{
        const char *reason;

        if (proto_check_capture_kind(kind, &reason) < 0 || proto_check_capture_path(path, &reason) < 0)
                return -EINVAL;
        return proto_encode_value(value, size, path);
}

int proto_format_capture(char *buf, size_t size, uint64_t seq, const char *kind, const char *path)
{
        char value[3 * PROTO_CAPTURE_PATH_MAX + 1];
        int r = encode_capture_target(kind, path, value, sizeof(value));

        if (r < 0)
                return r;
        return format_line(buf, size, "capture seq=%" PRIu64 " kind=%s path=%s\n", seq, kind, value);
}

int proto_format_arm(char *buf, size_t size, uint64_t seq, const char *kind, uint64_t heap_live_above_bytes,
                     const char *path)
{
        char value[3 * PROTO_CAPTURE_PATH_MAX + 1];
        int r = encode_capture_target(kind, path, value, sizeof(value));

        if (r < 0)
                return r;
        return format_line(buf, size,
                           "arm seq=%" PRIu64 " kind=%s heap_live_above_bytes=%" PRIu64 " path=%s\n", seq,
                           kind, heap_live_above_bytes, value);
}

int proto_format_disarm(char *buf, size_t size, uint64_t seq)
{
        return format_line(buf, size, "disarm seq=%" PRIu64 "\n", seq);
}

int proto_format_captured(char *buf, size_t size, const ProtoCaptured *c)
{
        char value[3 * PROTO_CAPTURE_PATH_MAX + 1];
        int r;

        r = proto_encode_value(value, sizeof(value), c->error ? c->error : c->path ? c->path : "");
        if (r < 0)
                return r;
        if (c->error)
                return format_line(buf, size, "captured seq=%" PRIu64 " error=%s\n", c->seq, value);
        return format_line(buf, size, "captured seq=%" PRIu64 " path=%s bytes=%" PRIu64 "\n", c->seq, value,
                           c->bytes);
}

static int bad_message(const char **reason, const char *why)
{
        *reason = why;
        return -EBADMSG;
}

int proto_get_captured(const ProtoMessage *m, ProtoCaptured *ret, const char **reason)
{
        ProtoCaptured c = {.path = proto_get(m, "path"), .error = proto_get(m, "error")};
        int r;

        if (proto_get_u64(m, "seq", &c.seq) < 0)
                return bad_message(reason, "captured without a valid seq=");
        if (!c.error && (!c.path || !*c.path))
                return bad_message(reason, "captured with neither path= nor error=");
        r = proto_get_u64(m, "bytes", &c.bytes);
        if (r < 0 && r != -ENOENT)
                return bad_message(reason, "bad bytes= in captured");
        if (c.error)
                c.path = NULL;
        *ret = c;
        return 0;
}

int proto_get_gc_cycle(const ProtoMessage *m, ProtoGcCycle *ret, const char **reason)
{
        static const char *const keys[] = {"heap_goal_bytes", "heap_live_bytes"};
        ProtoGcCycle c = {0};
        uint64_t *fields[] = {&c.heap_goal_bytes, &c.heap_live_bytes};
        int r;

        if (proto_get_u64(m, "count", &c.count) < 0)
                return bad_message(reason, "gc-cycle without a valid count=");
        for (size_t i = 0; i < 2; i++) {
                r = proto_get_u64(m, keys[i], fields[i]);
                if (r < 0 && r != -ENOENT)
                        return bad_message(reason, "bad number in gc-cycle");
        }
        r = proto_get_fraction(m, "gc_cpu_fraction", &c.gc_cpu_fraction);
        if (r < 0 && r != -ENOENT)
                return bad_message(reason, "bad gc_cpu_fraction= in gc-cycle");
        *ret = c;
        return 0;
}
