/* The pure arithmetic of evaluations: see eval_score.h. */
#include "eval_score.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const eval_names[EVAL_N] = {
    "usage",
    "availability",
    "spot_checks",
    "rectifications_on_time",
    "milestones_on_time",
    "info_requests_on_time",
    "backup_freshness",
};
const int eval_default_weights[EVAL_N] = {20, 20, 15, 15, 10, 10, 10};

static const char *const s_advice[EVAL_N] = {
    "the system was used on too few of its days in operation: promote it to its users and "
    "report usage every day",
    "the system was too often unavailable: review its incidents and improve its reliability",
    "too many spot checks found issues: correct the findings before the next check",
    "rectifications were not closed by their deadlines: carry out the required actions on time",
    "milestones were not completed by their due dates: plan realistically and track progress",
    "information requests were not answered by their due dates: answer them on time",
    "backups were often older than 7 days: back the system up at least once a week",
};

int eval_index(const char *name)
{
    for (int i = 0; i < EVAL_N; i++)
        if (name && strcmp(name, eval_names[i]) == 0) return i;
    return -1;
}

static bool s_fail(char *why, size_t len, const char *fmt, const char *item, size_t n)
{
    if (why && len) snprintf(why, len, fmt, (int)n, item);
    return false;
}

bool eval_weights_parse(const char *spec, int w[EVAL_N], char *why, size_t why_len)
{
    int out[EVAL_N];
    bool seen[EVAL_N] = {false};
    memcpy(out, eval_default_weights, sizeof out);
    if (why && why_len) why[0] = '\0';
    const char *p = spec ? spec : "";
    while (isspace((unsigned char)*p))
        p++;
    if (*p) {
        for (;;) {
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            /* trim the item */
            const char *a = p, *b = p + n;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            size_t len = (size_t)(b - a);
            if (len == 0) return s_fail(why, why_len, "an empty item%.*s", "", 0);
            const char *eq = memchr(a, '=', len);
            if (!eq) return s_fail(why, why_len, "\"%.*s\" is not name=weight", a, len);
            char name[64];
            size_t nl = (size_t)(eq - a);
            while (nl > 0 && isspace((unsigned char)a[nl - 1]))
                nl--;
            if (nl == 0 || nl >= sizeof name)
                return s_fail(why, why_len, "\"%.*s\": unknown component", a, len);
            memcpy(name, a, nl);
            name[nl] = '\0';
            int i = eval_index(name);
            if (i < 0) return s_fail(why, why_len, "\"%.*s\": unknown component", a, len);
            if (seen[i]) return s_fail(why, why_len, "\"%.*s\": component given twice", a, len);
            seen[i] = true;
            const char *v = eq + 1;
            while (v < b && isspace((unsigned char)*v))
                v++;
            long val = 0;
            if (v == b || (b - v) > 4)
                return s_fail(why, why_len, "\"%.*s\": the weight must be an integer 0 to 1000", a,
                              len);
            for (const char *c = v; c < b; c++) {
                if (!isdigit((unsigned char)*c))
                    return s_fail(why, why_len, "\"%.*s\": the weight must be an integer 0 to 1000",
                                  a, len);
                val = val * 10 + (*c - '0');
            }
            if (val > EVAL_WEIGHT_MAX)
                return s_fail(why, why_len, "\"%.*s\": the weight must be an integer 0 to 1000", a,
                              len);
            out[i] = (int)val;
            if (!end) break;
            p = end + 1;
        }
    }
    int sum = 0;
    for (int i = 0; i < EVAL_N; i++)
        sum += out[i];
    if (sum == 0) return s_fail(why, why_len, "the weights sum to 0%.*s", "", 0);
    memcpy(w, out, sizeof out);
    return true;
}

bool eval_weighted_mean(const double *v, const bool *has, const int *w, int n, double *out)
{
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        if (!has[i] || w[i] <= 0) continue;
        num += (double)w[i] * v[i];
        den += (double)w[i];
    }
    if (den <= 0) return false;
    *out = num / den;
    return true;
}

bool eval_mean(const double *v, const bool *has, int n, double *out)
{
    double sum = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!has[i]) continue;
        sum += v[i];
        k++;
    }
    if (k == 0) return false;
    *out = sum / k;
    return true;
}

double eval_round(double x, int decimals)
{
    double scale = pow(10.0, decimals);
    /* 1e-9 absorbs the binary error of a decimal half (82.35 is stored as
     * 82.3499999...); the values are percentages, far from that scale */
    return floor(x * scale + 0.5 + 1e-9) / scale;
}

void eval_suggestion(int i, double value, char *out, size_t len)
{
    if (i < 0 || i >= EVAL_N) {
        if (len) out[0] = '\0';
        return;
    }
    snprintf(out, len, "%s is %.1f of 100, below %.0f: %s.", eval_names[i], value, EVAL_WEAK_BELOW,
             s_advice[i]);
}
