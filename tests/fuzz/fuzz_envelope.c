/*
 * Fuzz target: what the audit service takes in from a source's outbox. The
 * input is the body of GET /internal/v1/outbox, read by follow_parse_page()
 * (shared/src/follow.c); each event of the page goes through
 * envelope_check() (services/audit/src/envelope.c, what the ingest checks
 * before queueing it) and follow_digest() (the digest a bus hint is judged
 * by). An input that is not a page is also tried as one event.
 *
 * Checks beyond "no crash, no UB, no leak": sourceseqs come positive and
 * increasing, as many as the page says; the digest does not depend on the
 * order of members; an accepted event still passes once printed and parsed
 * again (what the log stores is what it checked).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "envelope.h"
#include "itgov/follow.h"

#define SOURCE "/itgov/approvals"

struct page {
    long long last;
    int n;
};

static void s_event(const cJSON *ev)
{
    unsigned char d[32], d_rev[32];
    follow_digest(ev, d);
    if (envelope_check(ev, SOURCE)) return;
    /* printed, parsed again, members in reverse order: the same verdict and
     * the same digest (no member name twice: the check refuses that) */
    char *text = cJSON_PrintUnformatted(ev);
    if (!text) abort();
    cJSON *again = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(again)) abort();
    follow_digest(again, d);
    int n = cJSON_GetArraySize(again);
    cJSON **v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) abort();
    int i = 0;
    for (cJSON *m = again->child; m; m = m->next)
        v[i++] = m;
    cJSON *rev = cJSON_CreateObject();
    if (!rev) abort();
    for (i = n - 1; i >= 0; i--) {
        cJSON_DetachItemViaPointer(again, v[i]);
        cJSON_AddItemToObject(rev, v[i]->string, v[i]);
    }
    free(v);
    if (envelope_check(rev, SOURCE)) abort();
    follow_digest(rev, d_rev);
    if (memcmp(d, d_rev, 32) != 0) abort();
    cJSON_Delete(rev);
    cJSON_Delete(again);
}

static void s_each(void *arg, long long seq, cJSON *event)
{
    struct page *p = arg;
    if (seq <= p->last || !cJSON_IsObject(event)) abort();
    p->last = seq;
    p->n++;
    s_event(event);
    cJSON_Delete(event);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct page p = {0, 0};
    int n = follow_parse_page((const char *)data, size, s_each, &p);
    if (n >= 0) {
        if (n != p.n) abort();
        return 0;
    }
    if (p.n != 0) abort();
    cJSON *ev = cJSON_ParseWithLength((const char *)data, size);
    if (ev) s_event(ev);
    cJSON_Delete(ev);
    return 0;
}
