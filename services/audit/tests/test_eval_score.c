/* eval_score.c: reading the weights, the weighted mean, rounding, the
 * suggestion sentence. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "eval_score.h"

static bool s_near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

int main(void)
{
    int w[EVAL_N];
    char why[200];

    /* defaults: 20 20 15 15 10 10 10 (sum 100) */
    CHECK(eval_weights_parse(NULL, w, why, sizeof why));
    CHECK(w[EVAL_USAGE] == 20 && w[EVAL_AVAILABILITY] == 20 && w[EVAL_SPOT_CHECKS] == 15 &&
          w[EVAL_RECTIFICATIONS] == 15 && w[EVAL_MILESTONES] == 10 && w[EVAL_INFO_REQUESTS] == 10 &&
          w[EVAL_BACKUPS] == 10);
    CHECK(eval_weights_parse("", w, why, sizeof why) && w[EVAL_USAGE] == 20);
    CHECK(eval_weights_parse("  ", w, why, sizeof why) && w[EVAL_BACKUPS] == 10);

    /* some named: the others keep their default; spaces allowed */
    CHECK(eval_weights_parse("usage=30, backup_freshness = 0", w, why, sizeof why));
    CHECK(w[EVAL_USAGE] == 30 && w[EVAL_BACKUPS] == 0 && w[EVAL_AVAILABILITY] == 20);
    CHECK(eval_weights_parse("usage=1,availability=1,spot_checks=1,rectifications_on_time=1,"
                             "milestones_on_time=1,info_requests_on_time=1,backup_freshness=1000",
                             w, why, sizeof why));
    CHECK(w[EVAL_BACKUPS] == 1000 && w[EVAL_MILESTONES] == 1);

    /* refused: unknown, twice, not an integer 0-1000, empty item, sum 0;
     * w untouched on failure */
    int keep[EVAL_N];
    memcpy(keep, w, sizeof w);
    CHECK(!eval_weights_parse("uptime=10", w, why, sizeof why) && strstr(why, "unknown"));
    CHECK(!eval_weights_parse("usage=10,usage=20", w, why, sizeof why) && strstr(why, "twice"));
    CHECK(!eval_weights_parse("usage=-1", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage=1001", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage=10000", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage=1.5", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage=", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage", w, why, sizeof why));
    CHECK(!eval_weights_parse("=5", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage=5,", w, why, sizeof why) && strstr(why, "empty"));
    CHECK(!eval_weights_parse("usage=5,,availability=5", w, why, sizeof why));
    CHECK(!eval_weights_parse("usage=0,availability=0,spot_checks=0,rectifications_on_time=0,"
                              "milestones_on_time=0,info_requests_on_time=0,backup_freshness=0",
                              w, why, sizeof why) &&
          strstr(why, "sum"));
    CHECK(memcmp(keep, w, sizeof w) == 0);

    /* weighted mean of the present values */
    CHECK(eval_weights_parse(NULL, w, why, sizeof why));
    double v[EVAL_N] = {100, 99.5, 50, 0, 100, 0, 100}, out = -1;
    bool all[EVAL_N] = {true, true, true, true, true, true, true};
    /* (20*100 + 20*99.5 + 15*50 + 15*0 + 10*100 + 10*0 + 10*100) / 100 = 67.4 */
    CHECK(eval_weighted_mean(v, all, w, EVAL_N, &out) && s_near(out, 67.4));
    /* nulls leave the mean: usage 100 (20), spot checks 50 (15), backups 100 (10):
     * (2000 + 750 + 1000) / 45 = 83.333... → 83.3 */
    bool some[EVAL_N] = {true, false, true, false, false, false, true};
    CHECK(eval_weighted_mean(v, some, w, EVAL_N, &out) && s_near(out, 3750.0 / 45));
    CHECK(s_near(eval_round(out, 1), 83.3));
    bool none[EVAL_N] = {false};
    CHECK(!eval_weighted_mean(v, none, w, EVAL_N, &out));
    /* a present value whose weight is 0 does not count; only such: no mean */
    int zero_usage[EVAL_N] = {0, 20, 15, 15, 10, 10, 10};
    bool only_usage[EVAL_N] = {true, false, false, false, false, false, false};
    CHECK(!eval_weighted_mean(v, only_usage, zero_usage, EVAL_N, &out));

    /* plain mean */
    double s3[3] = {77.5, 50, 10};
    bool h3[3] = {true, true, false};
    CHECK(eval_mean(s3, h3, 3, &out) && s_near(out, 63.75));
    CHECK(s_near(eval_round(out, 1), 63.8));
    bool n3[3] = {false, false, false};
    CHECK(!eval_mean(s3, n3, 3, &out));

    /* rounding: halves up, also where binary shows them just under */
    CHECK(s_near(eval_round(82.35, 1), 82.4));
    CHECK(s_near(eval_round(82.34, 1), 82.3));
    CHECK(s_near(eval_round(0.05, 1), 0.1));
    CHECK(s_near(eval_round(100, 1), 100));
    CHECK(s_near(eval_round(0, 1), 0));
    CHECK(s_near(eval_round(200.0 / 3, 2), 66.67));
    CHECK(s_near(eval_round(100.0 / 3, 1), 33.3));
    CHECK(s_near(eval_round(1.005, 2), 1.01));

    /* a suggestion names the component and its value */
    char line[400];
    eval_suggestion(EVAL_BACKUPS, 0, line, sizeof line);
    CHECK(strncmp(line, "backup_freshness is 0.0 of 100, below 60: ", 42) == 0);
    CHECK(line[strlen(line) - 1] == '.');
    eval_suggestion(EVAL_USAGE, 33.33, line, sizeof line);
    CHECK(strstr(line, "usage is 33.3 of 100") == line);
    eval_suggestion(EVAL_N, 1, line, sizeof line);
    CHECK(line[0] == '\0');
    CHECK(eval_index("spot_checks") == EVAL_SPOT_CHECKS && eval_index("nope") == -1 &&
          eval_index(NULL) == -1);
    return check_done();
}
