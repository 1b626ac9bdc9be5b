/*
 * The pure arithmetic of evaluations (issue 12, articles 23-24): the seven
 * components and their default weights, reading the weights from
 * configuration (ITGOV_EVAL_WEIGHTS), the weighted mean of the components
 * that have a value, the plain mean, rounding, and the suggestion sentence
 * for a weak component. No I/O; tested by tests/test_eval_score.c.
 */
#ifndef EVAL_SCORE_H
#define EVAL_SCORE_H

#include <stdbool.h>
#include <stddef.h>

enum {
    EVAL_USAGE,
    EVAL_AVAILABILITY,
    EVAL_SPOT_CHECKS,
    EVAL_RECTIFICATIONS,
    EVAL_MILESTONES,
    EVAL_INFO_REQUESTS,
    EVAL_BACKUPS,
    EVAL_N
};

/* A component whose value is below this gets a suggestion. */
#define EVAL_WEAK_BELOW 60.0
/* A weight is an integer in [0, EVAL_WEIGHT_MAX]. */
#define EVAL_WEIGHT_MAX 1000

/* "usage", "availability", ... in the order above (the order of the
 * components in every answer) */
extern const char *const eval_names[EVAL_N];
/* 20, 20, 15, 15, 10, 10, 10 */
extern const int eval_default_weights[EVAL_N];

/* The index of a component name, or -1. */
int eval_index(const char *name);

/* Reads "name=weight,name=weight,..." (spaces around items allowed) into w:
 * the components named get their weight, the others keep the default. An
 * empty or NULL spec gives the defaults. False, with a reason in why, for an
 * unknown name, a name given twice, a weight that is not an integer 0 to
 * EVAL_WEIGHT_MAX, an empty item, or weights whose sum is 0. */
bool eval_weights_parse(const char *spec, int w[EVAL_N], char *why, size_t why_len);

/* The weighted mean of the values that are present (has[i]) with weights
 * w[i]: sum(w*v) / sum(w). False when no present value has a weight > 0. */
bool eval_weighted_mean(const double *v, const bool *has, const int *w, int n, double *out);

/* The plain mean of the present values; false when none is present. */
bool eval_mean(const double *v, const bool *has, int n, double *out);

/* x (0 or more) rounded to `decimals` places, halves up (82.35 → 82.4; a
 * binary representation just under the half, as 82.35 has, still rounds up). */
double eval_round(double x, int decimals);

/* One plain sentence for component i whose value is weak (value: as shown). */
void eval_suggestion(int i, double value, char *out, size_t len);

#endif
