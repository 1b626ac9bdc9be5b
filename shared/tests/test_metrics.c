#include <stdlib.h>
#include <event2/buffer.h>
#include "check.h"
#include "itgov/metrics.h"

int main(void)
{
    const char *labels[] = {"GET /api/v1/me", "POST /api/v1/users"};
    struct metrics *m = metrics_new("accounts", labels, 2);
    metrics_observe(m, 0, 200, 0.0004);
    metrics_observe(m, 0, 200, 0.02);
    metrics_observe(m, 0, 401, 0.001);
    metrics_observe(m, 1, 201, 3.0);
    metrics_observe(m, 5, 200, 1.0); /* out of range: ignored */
    struct evbuffer *b = evbuffer_new();
    metrics_render(m, b);
    evbuffer_add(b, "", 1);
    const char *t = (const char *)evbuffer_pullup(b, -1);
    CHECK(strstr(t, "itgov_http_requests_total{service=\"accounts\",method=\"GET\","
                    "route=\"/api/v1/me\",status=\"200\"} 2\n") != NULL);
    CHECK(strstr(t, "route=\"/api/v1/me\",status=\"401\"} 1\n") != NULL);
    CHECK(strstr(t, "status=\"200\",le=\"0.0005\"} 1\n") != NULL);
    CHECK(strstr(t, "status=\"200\",le=\"0.025\"} 2\n") != NULL);
    CHECK(strstr(t, "route=\"/api/v1/users\",status=\"201\",le=\"2.5\"} 0\n") != NULL);
    CHECK(strstr(t, "route=\"/api/v1/users\",status=\"201\",le=\"+Inf\"} 1\n") != NULL);
    CHECK(strstr(t, "# TYPE itgov_http_request_duration_seconds histogram") != NULL);
    evbuffer_free(b);
    metrics_destroy(&m);
    CHECK(m == NULL);
    return check_done();
}
