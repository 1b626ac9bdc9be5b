/*
 * JSON-lines logging to stderr, one object per line, with the time, the
 * level and the service; callers add request_id and user_id where known.
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
    s_service = service;
    for (int i = 0; level && i < 4; i++)
        if (strcmp(level, s_names[i]) == 0) s_min = (enum log_level)i;
}

void log_fields(enum log_level level, cJSON *fields)
{
    if (level < s_min) {
        cJSON_Delete(fields);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

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
