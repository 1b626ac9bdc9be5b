/* follow: the page format and its refusals, the canonical digest, and the
 * check of bus hints against what the source holds. */
#include <stdlib.h>
#include "check.h"
#include "itgov/follow.h"

struct seen {
    long long seq[8];
    char type[8][64];
    int n;
};

static void s_each(void *arg, long long seq, cJSON *event)
{
    struct seen *s = arg;
    const cJSON *t = cJSON_GetObjectItem(event, "type");
    s->seq[s->n] = seq;
    snprintf(s->type[s->n], sizeof s->type[0], "%s", cJSON_IsString(t) ? t->valuestring : "");
    s->n++;
    cJSON_Delete(event);
}

static int s_parse(const char *text, struct seen *s)
{
    s->n = 0;
    return follow_parse_page(text, strlen(text), s_each, s);
}

static void s_digest(const char *json, unsigned char d[32])
{
    cJSON *j = cJSON_Parse(json);
    follow_digest(j, d);
    cJSON_Delete(j);
}

static void s_pages(void)
{
    struct seen s;
    CHECK(s_parse("{\"items\":[],\"next_after\":4}", &s) == 0 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"id\":\"a\",\"type\":\"itgov.x.y\",\"sourceseq\":3},"
                  "{\"id\":\"b\",\"type\":\"itgov.x.z\",\"sourceseq\":5}],\"next_after\":5}",
                  &s) == 2);
    CHECK(s.n == 2 && s.seq[0] == 3 && s.seq[1] == 5);
    CHECK_STR(s.type[1], "itgov.x.z");
    /* refusals, and no event handed out of a refused page */
    CHECK(s_parse("nope", &s) == -1 && s.n == 0);
    CHECK(s_parse("[{\"sourceseq\":1}]", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":3}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"id\":\"a\"}]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":\"4\"}]}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":0}]}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":1.5}]}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":1},7]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":4},{\"sourceseq\":4}]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":5},{\"sourceseq\":4}]}", &s) == -1 && s.n == 0);
}

static void s_digests(void)
{
    unsigned char a[32], b[32], c[32];
    /* member order does not count, at any depth; values and names do */
    s_digest("{\"a\":1,\"b\":{\"x\":[1,{\"q\":2,\"p\":3}],\"y\":\"z\"}}", a);
    s_digest("{\"b\":{\"y\":\"z\",\"x\":[1,{\"p\":3,\"q\":2}]},\"a\":1}", b);
    CHECK(memcmp(a, b, 32) == 0);
    s_digest("{\"b\":{\"y\":\"z\",\"x\":[{\"p\":3,\"q\":2},1]},\"a\":1}", c);
    CHECK(memcmp(a, c, 32) != 0); /* array order counts */
    s_digest("{\"data\":{\"outcome\":\"approve\"},\"sourceseq\":7}", a);
    s_digest("{\"data\":{\"outcome\":\"reject\"},\"sourceseq\":7}", b);
    CHECK(memcmp(a, b, 32) != 0);
    s_digest("{\"data\":{\"outcome\":\"approve\"} , \"sourceseq\": 7}", c);
    CHECK(memcmp(a, c, 32) == 0); /* whitespace does not count */
}

static void s_checks(void)
{
    static struct follow_check c; /* large: not on the stack */
    unsigned char real[32], fake[32], other[32];
    memset(real, 1, 32);
    memset(fake, 2, 32);
    memset(other, 3, 32);
    c.seen = 10; /* the cursor after a restart: older events are not remembered */
    CHECK(follow_check_hint(&c, 9, real, 0) == FOLLOW_UNKNOWN);

    /* a genuine hint, then the read that brings its event */
    CHECK(follow_check_hint(&c, 11, real, 0) == FOLLOW_WAIT && c.nhints == 1);
    CHECK(follow_check_hint(&c, 11, real, 0) == FOLLOW_WAIT && c.nhints == 1); /* kept once */
    CHECK(follow_check_read(&c, 11, real) == 0 && c.nhints == 0 && c.seen == 11);
    /* once read, a later hint is judged at once */
    CHECK(follow_check_hint(&c, 11, real, 1) == FOLLOW_SAME);
    CHECK(follow_check_hint(&c, 11, fake, 1) == FOLLOW_FORGED);

    /* a forgery ahead of the source, then the source's own event at that seq */
    CHECK(follow_check_hint(&c, 12, fake, 1) == FOLLOW_WAIT);
    CHECK(follow_check_hint(&c, 12, real, 1) == FOLLOW_WAIT && c.nhints == 2);
    CHECK(follow_check_read(&c, 12, real) == 1 && c.nhints == 0);

    /* a forgery naming a seq the source never reached: proved by a read
     * that started after it and reached the end before that seq */
    CHECK(follow_check_hint(&c, 13, fake, 2) == FOLLOW_WAIT);
    CHECK(follow_check_end(&c, 12, 2) == 0 && c.nhints == 1); /* that read began before it */
    CHECK(follow_check_end(&c, 13, 3) == 0 && c.nhints == 1); /* the end is at 13: read judges */
    CHECK(follow_check_end(&c, 12, 3) == 1 && c.nhints == 0);

    /* the window forgets old reads */
    CHECK(follow_check_read(&c, 13 + FOLLOW_WINDOW, other) == 0);
    CHECK(follow_check_hint(&c, 13, other, 4) == FOLLOW_UNKNOWN);
    CHECK(follow_check_hint(&c, 13 + FOLLOW_WINDOW, other, 4) == FOLLOW_SAME);

    /* a flood of hints keeps at most FOLLOW_HINTS, dropping the oldest */
    for (int i = 0; i < FOLLOW_HINTS + 10; i++)
        follow_check_hint(&c, c.seen + 1 + i, fake, 5 + (unsigned)i);
    CHECK(c.nhints == FOLLOW_HINTS);
    CHECK(follow_check_end(&c, c.seen, 1000) == FOLLOW_HINTS && c.nhints == 0);
}

int main(void)
{
    s_pages();
    s_digests();
    s_checks();
    return check_done();
}
