/*
 * Fuzz target: a request target as a client sends it ("/api/v1/x/42?a=b"),
 * taken apart the way a service does: evhttp's URI parser (with the flags
 * evhttp uses for request lines), route_match() against every route
 * pattern the services serve, the ids in the path as req_param_id() reads
 * them, then the query string as req_query() and req_page() read it.
 *
 * Where shared/ has the pure query parser (query_parse(), text_to_int(),
 * itgov/text.h), that is what runs; before it, req_query() was libevent's
 * evhttp_parse_query_str() and req_page() not a pure function, so only the
 * parse runs.
 *
 * Checks beyond "no crash, no UB, no leak": a match fills one non-empty
 * value without '/' per :param of the pattern; a query is parsed or refused
 * with a validation error, never both; an accepted value holds no NUL and is
 * valid UTF-8; an accepted id, limit or cursor is in its range and written
 * canonically (it prints back as the same text); a date or instant accepted
 * lies in the years allowed.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include "itgov/error.h"
#include "itgov/http.h"
#if __has_include("itgov/text.h")
#include "itgov/text.h"
#define HAVE_TEXT 1
#endif

/* The patterns of services/<svc>/src/routes.c and shared/src/service.c. */
static const char *const s_patterns[] = {
    "/api/v1/approvals",
    "/api/v1/approvals/:id",
    "/api/v1/approvals/:id/decision",
    "/api/v1/approvals/:id/experts",
    "/api/v1/approvals/:id/opinions",
    "/api/v1/approvals/:id/review",
    "/api/v1/audit",
    "/api/v1/audit/checkpoint",
    "/api/v1/audit/proof/consistency",
    "/api/v1/audit/proof/inclusion",
    "/api/v1/audit/public-key",
    "/api/v1/audit/verify",
    "/api/v1/departments",
    "/api/v1/departments/:id",
    "/api/v1/events",
    "/api/v1/events/keys",
    "/api/v1/me",
    "/api/v1/me/password",
    "/api/v1/plans",
    "/api/v1/plans/:id",
    "/api/v1/plans/:id/submit",
    "/api/v1/projects",
    "/api/v1/projects/:id",
    "/api/v1/projects/:id/history",
    "/api/v1/projects/:id/submit",
    "/api/v1/sessions",
    "/api/v1/sessions/:id",
    "/api/v1/sessions/current",
    "/api/v1/subscriptions",
    "/api/v1/subscriptions/:id",
    "/api/v1/subscriptions/:id/disable",
    "/api/v1/subscriptions/:id/replay",
    "/api/v1/users",
    "/api/v1/users/:id",
    "/api/v1/users/:id/disable",
    "/api/v1/users/:id/enable",
    "/internal/v1/outbox",
    /* issue 10: implementation plan and milestones */
    "/api/v1/projects/:id/implementation-plan",
    "/api/v1/projects/:id/implementation-plan/revisions",
    "/api/v1/projects/:id/milestones",
    "/api/v1/projects/:id/milestones/:mid/complete",
    "/api/v1/milestones/overdue",

    /* issue 10: contracts, deliverables, acceptance */
    "/api/v1/contracts/:cid",
    "/api/v1/projects/:id/acceptance-request",
    "/api/v1/projects/:id/contracts",
    "/api/v1/projects/:id/deliverables",

    /* issue 10: asset, payments, go-live */
    "/api/v1/projects/:id/asset",
    "/api/v1/projects/:id/go-live",
    "/api/v1/projects/:id/payments",
    "/api/v1/projects/:id/payments/:pid",

    /* issue 10: dossier */
    "/api/v1/projects/:id/dossier",

    /* issue 11 E: system accounts, access reviews */
    "/api/v1/access-reviews",
    "/api/v1/access-reviews/:id",
    "/api/v1/access-reviews/findings",
    "/api/v1/projects/:id/system-accounts",
    "/api/v1/system-accounts/:aid",
    "/api/v1/system-accounts/:aid/revoke",

    /* issue 11 F: spot checks, backups, media */
    "/api/v1/projects/:id/spot-checks",
    "/api/v1/spot-checks",
    "/api/v1/projects/:id/backups",
    "/api/v1/backups/stale",
    "/api/v1/media",
    "/api/v1/media/:id",
    "/api/v1/media/:id/transfers",

    /* issue 11 G: changes */
    "/api/v1/projects/:id/changes",
    "/api/v1/changes/:id",
    "/api/v1/changes/:id/implemented",

    /* issue 11 H: fees */
    "/api/v1/projects/:id/fee-agreement",
    "/api/v1/projects/:id/fee-agreement/revisions",
    "/api/v1/projects/:id/fees",
    "/api/v1/fees/summary",
    "/api/v1/fees/:id",
    "/api/v1/fee-uses",
    "/api/v1/fee-uses/:id",

    /* issue 12 A: information requests, rectifications, shared results */
    "/api/v1/projects/:id/rectifications",
    "/api/v1/rectifications/:id",
    "/api/v1/rectifications/:id/response",
    "/api/v1/rectifications/:id/verify",
    "/api/v1/projects/:id/info-requests",
    "/api/v1/info-requests/:id",
    "/api/v1/info-requests/:id/answer",
    "/api/v1/projects/:id/shared-results",
    "/api/v1/shared-results",
    "/api/v1/shared-results/:id",

    /* issue 12 B: escalation, suspension, termination, resume */
    "/api/v1/projects/:id/resume",
    "/api/v1/projects/:id/resume-requests",

    /* issue 12 D: usage metrics and metrics keys */
    "/api/v1/projects/:id/metrics-key",
    "/api/v1/metrics/usage",
    "/api/v1/metrics/usage/:id",

    /* issue 12 E: evaluations */
    "/api/v1/evaluations/projects/:id",
    "/api/v1/evaluations/departments/:id",
    "/api/v1/evaluations/departments/:id/publish",
    "/api/v1/evaluations/departments/:id/published",

    /* issue 13: tasks (me/tasks) */
    "/api/v1/me/tasks",
    "/api/v1/me/tasks/summary",

    /* issue 14 A: system keys and findings */
    "/api/v1/projects/:id/system-keys",
    "/api/v1/system-keys/:key_id/revoke",
    "/api/v1/systems/findings",
    "/api/v1/systems/findings/:id/resolve",
    /* issue 14 B: log digests */
    "/api/v1/systems/:id/log-digests",
    "/api/v1/log-digests/verify",
    "/api/v1/log-digests/:id",
    /* issue 14 C: configuration fingerprints */
    "/api/v1/systems/:id/config-fingerprints",

    /* not served today: more than one parameter, and one at the end */
    "/api/v1/projects/:id/deliverables/:did",
    "/:a/:b/:c/:d",
    "/:a/:b/:c/:d/:e",
};

static int s_count_params(const char *pattern)
{
    int n = 0;
    for (const char *p = pattern; *p; p++)
        if (*p == ':') n++;
    return n;
}

#ifdef HAVE_TEXT
/* text_to_int() as req_param_id() and req_query_int() use it. */
static void s_int(const char *text, long long min, long long max)
{
    long long v = 0;
    if (!text_to_int(text, min, max, &v)) return;
    char back[24];
    snprintf(back, sizeof back, "%lld", v);
    if (v < min || v > max || strcmp(back, text) != 0) abort();
}

static void s_date(const char *text)
{
    int y = 0;
    if (text_is_date(text) && (strlen(text) != 10 || sscanf(text, "%4d", &y) != 1 ||
                               y < TEXT_YEAR_MIN || y > TEXT_YEAR_MAX))
        abort();
    if (text_is_instant(text) && (strlen(text) < 20 || sscanf(text, "%4d", &y) != 1 ||
                                  y < TEXT_YEAR_MIN || y > TEXT_YEAR_MAX))
        abort();
}

static void s_query(const char *raw)
{
    struct error *err = (struct error *)1;
    struct query *q = query_parse(raw, &err);
    if ((q == NULL) == (err == NULL)) abort();
    if (err) {
        if (err->code != ERR_VALIDATION || err->nfields > ERROR_MAX_FIELDS) abort();
        cJSON *j = error_to_json(err);
        char *text = cJSON_PrintUnformatted(j);
        if (!text) abort();
        free(text);
        cJSON_Delete(j);
        error_destroy(&err);
        return;
    }
    static const char *const names[] = {"limit", "cursor", "after", "q", "from", "to", "actor_id"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = query_get(q, names[i]);
        if (!v) continue;
        if (!utf8_valid(v, strlen(v))) abort();
        s_int(v, 1, 200);
        s_int(v, 0, LLONG_MAX);
        s_int(v, LLONG_MIN, LLONG_MAX);
        s_date(v);
    }
    query_destroy(&q);
    if (q) abort();
}
#else
static void s_int(const char *text, long long min, long long max) {}

static void s_query(const char *raw)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (raw) evhttp_parse_query_str(raw, &q);
    evhttp_find_header(&q, "limit");
    evhttp_clear_headers(&q);
}
#endif

static void s_match_all(const char *path)
{
    for (size_t i = 0; i < sizeof s_patterns / sizeof s_patterns[0]; i++) {
        const char *names[HTTP_MAX_PARAMS];
        char *values[HTTP_MAX_PARAMS];
        int n = route_match(s_patterns[i], path, names, values, HTTP_MAX_PARAMS);
        if (n < 0) continue;
        if (n != s_count_params(s_patterns[i])) abort();
        for (int k = 0; k < n; k++) {
            if (!values[k][0] || strchr(values[k], '/') || names[k][-1] != ':') abort();
            s_int(values[k], 1, LLONG_MAX);
            free(values[k]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *target = malloc(size + 1);
    if (!target) abort();
    memcpy(target, data, size);
    target[size] = '\0';

    /* the path as given, even where evhttp would refuse the URI */
    s_match_all(target);

    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
    if (uri) {
        const char *path = evhttp_uri_get_path(uri);
        s_match_all(path && *path ? path : "/");
        s_query(evhttp_uri_get_query(uri));
        evhttp_uri_free(uri);
    }
    /* the whole input as a query string, too */
    s_query(target);
    free(target);
    return 0;
}
