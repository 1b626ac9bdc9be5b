/*
 * The pure rules of access reviews (access_reviews.c), apart so their unit
 * test needs no database: the dormancy threshold, the finding kinds, and
 * which users share an account (live sessions from several addresses).
 */
#ifndef ACCOUNTS_ACCESS_RULES_H
#define ACCOUNTS_ACCESS_RULES_H

#include <stdbool.h>
#include <cjson/cJSON.h>

/* The finding kinds, NULL-ended, in the order a review lists them. */
extern const char *const access_finding_kinds[];

/* Seconds without a login that make an account dormant: seconds when
 * positive (ITGOV_DORMANT_S, for tests), else days (ITGOV_DORMANT_DAYS). */
long long dormant_threshold_s(long days, long seconds);

/* From the live sessions ([{user_id, ip, ...}], session_list()), the users
 * with sessions from two or more distinct addresses at once: a new array
 * [{user_id, addresses: [sorted, distinct]}] ordered by user_id (caller
 * frees). Sessions without an address or a user id are ignored. */
cJSON *shared_account_sessions(const cJSON *sessions);

/* Whether text is "true" or "false" (a boolean setting); *out set. */
bool setting_bool(const char *text, bool *out);

#endif
