/* SPDX-License-Identifier: MIT */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../policy/macro.h"
#include "log.h"
#include "oneshot.h"

/* A scraper sends one small request; a client that sends more, or dawdles, is dropped. */
#define HTTP_REQUEST_MAX     4096
#define HTTP_TIMEOUT_USEC    (5 * USEC_PER_SEC)
#define HTTP_CONNECTIONS_MAX 8

struct Metrics {
        sd_event *event;
        char *file, *tmp;
        bool file_failed; /* said once; the next success says so too */
        int listen_fd;
        OneshotServer *server;
        char text[METRICS_STRLEN];
        int text_len;
};

static int write_file(Metrics *m)
{
        _cleanup_close_ int fd = -1;
        size_t off = 0;

        fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        while (off < (size_t)m->text_len) {
                ssize_t k = write(fd, m->text + off, (size_t)m->text_len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = negative_errno();
                        (void)unlink(m->tmp);
                        return r;
                }
                off += (size_t)k;
        }
        /* rename() is atomic: the collector reads the old file or the new one, never half of one. */
        if (rename(m->tmp, m->file) < 0) {
                int r = negative_errno();
                (void)unlink(m->tmp);
                return r;
        }
        return 0;
}

/* HEAD gets the headers GET would, Content-Length included, and no body. */
static int http_response(const char *status, const char *type, const char *body, size_t body_len,
                         bool head_only, char **ret, size_t *ret_len)
{
        char *head = NULL, *out;
        int k = asprintf(
                &head, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                status, type, body_len);

        if (k < 0)
                return -ENOMEM;
        out = malloc((size_t)k + body_len);
        if (!out) {
                free(head);
                return -ENOMEM;
        }
        memcpy(out, head, (size_t)k);
        if (head_only)
                body_len = 0;
        memcpy(out + k, body, body_len);
        free(head);
        *ret = out;
        *ret_len = (size_t)k + body_len;
        return 0;
}

static bool http_request_complete(const char *request)
{
        return strstr(request, "\r\n\r\n") || strstr(request, "\n\n");
}

static int http_respond(void *userdata, char *request, char **ret, size_t *ret_len)
{
        static const char text_type[] = "text/plain; charset=utf-8";
        const Metrics *m = userdata;
        char method[8] = "", target[64] = "";
        bool head;

        if (sscanf(request, "%7s %63s", method, target) != 2)
                return http_response("400 Bad Request", text_type, "bad request\n", 12, false, ret, ret_len);
        head = strcmp(method, "HEAD") == 0;
        if (strcmp(method, "GET") != 0 && !head)
                return http_response("405 Method Not Allowed", text_type, "only GET\n", 9, false, ret,
                                     ret_len);
        if (strcmp(target, "/metrics") != 0 && strcmp(target, "/") != 0)
                return http_response("404 Not Found", text_type, "memgov serves /metrics\n", 23, head, ret,
                                     ret_len);
        return http_response("200 OK", "text/plain; version=0.0.4; charset=utf-8", m->text,
                             (size_t)m->text_len, head, ret, ret_len);
}

static const OneshotOps http_ops = {
        .request_max = HTTP_REQUEST_MAX,
        .timeout_usec = HTTP_TIMEOUT_USEC,
        .connections_max = HTTP_CONNECTIONS_MAX,
        .complete = http_request_complete,
        .respond = http_respond,
};

static int listen_on(Metrics *m, const char *listen_text)
{
        union {
                struct sockaddr sa;
                struct sockaddr_in in4;
                struct sockaddr_in6 in6;
        } sa = {};
        uint8_t addr[16];
        uint16_t port;
        int family, one = 1, r;
        socklen_t len;

        r = metrics_parse_listen(listen_text, &family, addr, &port);
        if (r < 0) {
                log_error("--metrics-listen '%s': %s", listen_text, metrics_listen_error(r));
                return -EINVAL;
        }
        if (family == AF_INET) {
                sa.in4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port)};
                memcpy(&sa.in4.sin_addr, addr, 4);
                len = sizeof(sa.in4);
        } else {
                sa.in6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(port)};
                memcpy(&sa.in6.sin6_addr, addr, 16);
                len = sizeof(sa.in6);
        }
        m->listen_fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (m->listen_fd < 0)
                return log_error_errno(errno, "--metrics-listen '%s': cannot create a socket: %m",
                                       listen_text);
        (void)setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(m->listen_fd, &sa.sa, len) < 0 || listen(m->listen_fd, 16) < 0)
                return log_error_errno(errno, "--metrics-listen '%s': cannot listen there: %m", listen_text);
        r = oneshot_server_new(m->event, m->listen_fd, &http_ops, m, &m->server);
        if (r < 0)
                return log_error_errno(r, "--metrics-listen '%s': cannot watch the socket: %m", listen_text);
        log_info("Serving metrics on http://%s/metrics.", listen_text);
        return 0;
}

static int prepare_file(Metrics *m, const char *file)
{
        int r;

        m->file = strdup(file);
        /* The temporary file sits beside the target so rename() stays on one filesystem; node_exporter
         * reads only *.prom, so it never sees the temporary one. */
        if (!m->file || asprintf(&m->tmp, "%s.%d.tmp", file, (int)getpid()) < 0)
                return log_error_errno(-ENOMEM, "Failed to allocate: %m");
        /* Write an empty exposition now: a path that cannot be written fails before the child starts. */
        r = write_file(m);
        if (r < 0)
                return log_error_errno(r, "--metrics-file '%s': cannot write it: %m", file);
        return 0;
}

int metrics_new(sd_event *e, const char *file, const char *listen_text, Metrics **ret)
{
        Metrics *m;
        int r = 0;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->listen_fd = -1;
        if (file)
                r = prepare_file(m, file);
        if (r >= 0 && listen_text)
                r = listen_on(m, listen_text);
        if (r < 0) {
                metrics_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

void metrics_publish(Metrics *m, const MetricsSnapshot *snap)
{
        int r;

        if (!m)
                return;
        r = metrics_format(snap, m->text, sizeof(m->text));
        if (r < 0) {
                log_warning_errno(r, "Failed to format the metrics: %m, ignoring.");
                return;
        }
        m->text_len = r;
        if (!m->file)
                return;
        r = write_file(m);
        if (r < 0 && !m->file_failed)
                log_warning_errno(r, "Failed to write %s: %m, ignoring (said once).", m->file);
        else if (r >= 0 && m->file_failed)
                log_info("Writing %s again.", m->file);
        m->file_failed = r < 0;
}

Metrics *metrics_free(Metrics *m)
{
        if (!m)
                return NULL;
        oneshot_server_free(m->server);
        safe_close(m->listen_fd);
        free(m->file);
        free(m->tmp);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}
