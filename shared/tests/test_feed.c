/* feed_parse_page: the catch-up page format, and its refusals. */
#include <stdlib.h>
#include "check.h"
#include "itgov/feed.h"

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
    return feed_parse_page(text, strlen(text), s_each, s);
}

int main(void)
{
    struct seen s;
    CHECK(s_parse("{\"items\":[],\"next_cursor\":null}", &s) == 0 && s.n == 0);
    CHECK(
        s_parse("{\"items\":[{\"id\":\"a\",\"type\":\"itgov.x.y\",\"sourceseq\":3},"
                "{\"id\":\"b\",\"type\":\"itgov.x.z\",\"sourceseq\":\"5\"}],\"next_cursor\":\"5\"}",
                &s) == 2);
    CHECK(s.n == 2 && s.seq[0] == 3 && s.seq[1] == 5);
    CHECK_STR(s.type[1], "itgov.x.z");
    /* {seq, event} items and a bare array are read too */
    CHECK(s_parse("{\"events\":[{\"seq\":7,\"event\":{\"id\":\"c\",\"type\":\"itgov.q\"}}]}", &s) ==
          1);
    CHECK(s.seq[0] == 7);
    CHECK_STR(s.type[0], "itgov.q");
    CHECK(s_parse("[{\"id\":\"d\",\"type\":\"t\",\"seq\":1}]", &s) == 1);
    /* refusals: not JSON, no list, an item without a sequence, out of order */
    CHECK(s_parse("nope", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":3}", &s) == -1);
    CHECK(s_parse("{\"items\":[{\"id\":\"a\"}]}", &s) == -1 && s.n == 0);
    CHECK(s_parse("{\"items\":[{\"sourceseq\":4},{\"sourceseq\":4}]}", &s) == -1 && s.n == 0);
    return check_done();
}
