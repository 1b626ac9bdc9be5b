/* ITGOV_ANCHOR_SILENCE_H (issue 14 A): pure, for the unit test. */
#include <math.h>
#include <stdlib.h>
#include "systems.h"

bool silence_hours_parse(const char *text, double *seconds)
{
    if (!text || !*text) return false;
    int dots = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '.') dots++;
        if (!((*p >= '0' && *p <= '9') || *p == '.') || dots > 1) return false;
    }
    if (text[0] == '.') return false; /* "0.5", not ".5" */
    char *end = NULL;
    double h = strtod(text, &end);
    if (!end || *end || !isfinite(h) || h <= 0 || h > SILENCE_MAX_HOURS) return false;
    double s = h * 3600.0;
    if (s < 1.0) return false; /* under a second: a typo, not a threshold */
    *seconds = s;
    return true;
}
