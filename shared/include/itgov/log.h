/*
 * Logs: one JSON object per line on stderr ({time, level, service, msg,
 * request_id?, user_id?, ...}). Never pass a password, hash or token here.
 */
#ifndef ITGOV_LOG_H
#define ITGOV_LOG_H

#include <cjson/cJSON.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(const char *service, const char *level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes fields (takes ownership) as one line, adding time, level, service. */
void log_fields(enum log_level level, cJSON *fields);

/* The access line of one answered request. */
void log_request(enum log_level level, const char *request_id, long long user_id, const char *route,
                 int status, double ms);
/* Writes out buffered lines (called every 200 ms by the service loop). */
void log_flush(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
