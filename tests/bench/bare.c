/*
 * itgov-bench-bare: the baseline of tests/bench/run.sh. A bare evhttp server
 * (plain libevent + cJSON, not the shared library: no routing table, token
 * check, metrics or access log) that answers GET /api/v1/me with a user
 * document kept in memory as a cJSON tree and printed per request, the least
 * work a real handler could do for the same answer.
 *
 *   itgov-bench-bare [port]
 *
 * Port: argv[1], else ITGOV_BENCH_BARE_PORT, else 8090; address: ITGOV_BIND
 * (default 127.0.0.1). ITGOV_BENCH_USER_JSON, if set, is the document to
 * serve (run.sh passes the body the real GET /api/v1/me answered, so both
 * send the same bytes); otherwise a built-in one shaped like the admin user.
 * ITGOV_BENCH_LIST_FILE, if set, names a file holding a JSON document served
 * byte for byte (copied into each answer, never re-printed: cJSON would print
 * other bytes than PostgreSQL's jsonb text the service sends) at GET
 * /api/v1/projects whatever the query string (run.sh: the very page GET
 * /api/v1/projects?limit=50 answered). Anything else gets 404. SIGTERM/SIGINT
 * stop it.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static const char s_default_user[] =
    "{\"id\":1,\"username\":\"admin\",\"display_name\":\"Administrator\","
    "\"employee_id\":\"admin\",\"department_id\":1,\"roles\":[\"admin\"],\"disabled\":false,"
    "\"created_at\":\"2025-01-01T00:00:00Z\",\"updated_at\":\"2025-01-01T00:00:00Z\","
    "\"last_login_at\":\"2025-01-01T00:00:00Z\"}";

static cJSON *s_user;
static char *s_list; /* NULL: no list document */
static size_t s_list_len;

static void s_send(struct evhttp_request *req, const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) {
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    struct evbuffer *body = evbuffer_new();
    evbuffer_add(body, text, strlen(text));
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

static void s_send_bytes(struct evhttp_request *req, const char *bytes, size_t len)
{
    struct evbuffer *body = evbuffer_new();
    evbuffer_add(body, bytes, len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

/* The file's bytes, NUL-terminated, if they are a JSON document. */
static char *s_read_json_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len + 65536 + 1 > cap) {
            cap = 2 * cap + 65536 + 1;
            char *more = realloc(buf, cap);
            if (!more) break;
            buf = more;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    if (!buf) return NULL;
    buf[len] = '\0';
    cJSON *doc = cJSON_Parse(buf);
    if (!doc) {
        free(buf);
        return NULL;
    }
    cJSON_Delete(doc);
    *out_len = len;
    return buf;
}

static void s_on_request(struct evhttp_request *req, void *arg)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    bool get = evhttp_request_get_command(req) == EVHTTP_REQ_GET && path;
    if (get && strcmp(path, "/api/v1/me") == 0) return s_send(req, s_user);
    if (get && s_list && strcmp(path, "/api/v1/projects") == 0)
        return s_send_bytes(req, s_list, s_list_len);
    evhttp_send_error(req, 404, "Not Found");
}

static void s_on_signal(evutil_socket_t sig, short what, void *base)
{
    event_base_loopbreak(base);
}

static int s_port(const char *text)
{
    char *end;
    long p = text ? strtol(text, &end, 10) : 0;
    return text && *text && !*end && p >= 1 && p <= 65535 ? (int)p : -1;
}

int main(int argc, char **argv)
{
    const char *port_text = argc > 1 ? argv[1] : getenv("ITGOV_BENCH_BARE_PORT");
    int port = port_text ? s_port(port_text) : 8090;
    if (port < 0) {
        fprintf(stderr, "itgov-bench-bare: port must be 1-65535, not '%s'\n", port_text);
        return 2;
    }
    const char *bind = getenv("ITGOV_BIND");
    if (!bind || !*bind) bind = "127.0.0.1";
    const char *doc = getenv("ITGOV_BENCH_USER_JSON");
    s_user = cJSON_Parse(doc && *doc ? doc : s_default_user);
    if (!cJSON_IsObject(s_user)) {
        fprintf(stderr, "itgov-bench-bare: ITGOV_BENCH_USER_JSON is not a JSON object\n");
        return 2;
    }

    const char *list = getenv("ITGOV_BENCH_LIST_FILE");
    if (list && *list && !(s_list = s_read_json_file(list, &s_list_len))) {
        fprintf(stderr, "itgov-bench-bare: ITGOV_BENCH_LIST_FILE is not a readable JSON file\n");
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (!http) {
        fprintf(stderr, "itgov-bench-bare: cannot create the event loop\n");
        return 1;
    }
    evhttp_set_gencb(http, s_on_request, NULL);
    struct evhttp_bound_socket *listener =
        evhttp_bind_socket_with_handle(http, bind, (ev_uint16_t)port);
    if (!listener) {
        fprintf(stderr, "itgov-bench-bare: cannot listen on %s:%d\n", bind, port);
        return 1;
    }
    /* as the services (shared/src/http.c): no Nagle wait on an answer that
     * leaves in two writes (libevent writes at most 16 KiB at a time) */
    int one = 1;
    setsockopt(evhttp_bound_socket_get_fd(listener), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct event *term = evsignal_new(base, SIGTERM, s_on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, s_on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    fprintf(stderr, "itgov-bench-bare: listening on %s:%d\n", bind, port);
    event_base_dispatch(base);

    event_free(term);
    event_free(intr);
    evhttp_free(http);
    event_base_free(base);
    cJSON_Delete(s_user);
    free(s_list);
    return 0;
}
