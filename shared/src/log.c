/*
 * JSON-lines logging to stderr, one object per line, with the time, the
 * level and the service; callers add request_id and user_id where known.
 * stderr is fully buffered: the service flushes it every 200 ms from its
 * loop (log_flush), and at once for warnings and errors, so an access line
 * per request costs no system call of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "itgov/log.h"

static const char *s_service = "itgov";
static enum log_level s_min = LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, const char *level)
{
    static char buf[1 << 16];
    setvbuf(stderr, buf, _IOFBF, sizeof buf);
    s_service = service;
    for (int i = 0; level && i < 4; i++)
        if (strcmp(level, s_names[i]) == 0) s_min = (enum log_level)i;
}

/* RFC 3339 UTC with milliseconds; the seconds part is formatted once a second. */
static void s_when(char out[40])
{
    static time_t last;
    static char prefix[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        last = ts.tv_sec;
    }
    snprintf(out, 40, "%.31s.%03dZ", prefix, (int)(ts.tv_nsec / 1000000) % 1000);
}

void log_fields(enum log_level level, cJSON *fields)
{
    if (level < s_min) {
        cJSON_Delete(fields);
        return;
    }
    char when[40];
    s_when(when);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "time", when);
    cJSON_AddStringToObject(line, "level", s_names[level]);
    cJSON_AddStringToObject(line, "service", s_service);
    for (cJSON *f = fields ? fields->child : NULL; f; f = f->next)
        cJSON_AddItemToObject(line, f->string, cJSON_Duplicate(f, 1));
    cJSON_Delete(fields);
    char *text = cJSON_PrintUnformatted(line);
    if (text) fprintf(stderr, "%s\n", text);
    free(text);
    cJSON_Delete(line);
    if (level >= LOG_WARN) fflush(stderr);
}

void log_request(enum log_level level, const char *request_id, long long user_id, const char *route,
                 int status, double ms)
{
    if (level < s_min) return;
    char when[40], user[32] = "";
    s_when(when);
    if (user_id) snprintf(user, sizeof user, ",\"user_id\":%lld", user_id);
    /* every field is ours and needs no escaping: the id was checked, the
     * route comes from the route table */
    fprintf(stderr,
            "{\"time\":\"%s\",\"level\":\"%s\",\"service\":\"%s\",\"msg\":\"request\","
            "\"request_id\":\"%s\"%s,\"route\":\"%s\",\"status\":%d,\"ms\":%.3f}\n",
            when, status >= 500 ? "warn" : s_names[level], s_service, request_id, user, route,
            status, ms);
}

void log_flush(void)
{
    fflush(stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < s_min) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "msg", msg);
    log_fields(level, f);
}
