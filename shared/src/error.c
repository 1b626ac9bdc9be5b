/*
 * The error type and its problem+json form (RFC 9457): type (about:blank),
 * title (the status's reason phrase), status, code, detail, errors[] for
 * field errors, plus any extra members a gate adds (the current state, what
 * is missing); http.c adds request_id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/error.h"

static const struct {
    int status;
    const char *code;
    const char *title;
} s_errors[] = {
#define X(name, status, code, title) {status, code, title},
    ITGOV_ERRORS(X)
#undef X
};

struct error *error_new(enum err_code code, const char *fmt, ...)
{
    struct error *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof e->detail, fmt, ap);
        va_end(ap);
    }
    if (code == ERR_UNAVAILABLE) e->retry_after = 1;
    return e;
}

void error_destroy(struct error **self_p)
{
    if (!*self_p) return;
    cJSON_Delete((*self_p)->fields);
    cJSON_Delete((*self_p)->extra);
    free(*self_p);
    *self_p = NULL;
}

void error_add_field(struct error *e, const char *field, const char *message)
{
    if (e->nfields >= ERROR_MAX_FIELDS) {
        e->fields_cut++;
        return;
    }
    if (!e->fields) e->fields = cJSON_CreateArray();
    e->nfields++;
    cJSON *item = cJSON_CreateObject();
    size_t n = strlen(field);
    if (n > ERROR_MAX_FIELD_NAME) { /* cut before a UTF-8 continuation byte, mark the cut */
        n = ERROR_MAX_FIELD_NAME;
        while (n > 0 && ((unsigned char)field[n] & 0xc0) == 0x80)
            n--;
        char cut[ERROR_MAX_FIELD_NAME + 4];
        memcpy(cut, field, n);
        memcpy(cut + n, "\xe2\x80\xa6", 4); /* "…" and the NUL */
        cJSON_AddStringToObject(item, "field", cut);
    } else {
        cJSON_AddStringToObject(item, "field", field);
    }
    cJSON_AddStringToObject(item, "message", message);
    cJSON_AddItemToArray(e->fields, item);
}

void error_set(struct error *e, const char *name, cJSON *value)
{
    if (!e->extra) e->extra = cJSON_CreateObject();
    cJSON_AddItemToObject(e->extra, name, value);
}

int error_status(enum err_code code)
{
    return code < ERR_COUNT ? s_errors[code].status : 500;
}

const char *error_code_str(const struct error *e)
{
    if (e->code_override) return e->code_override;
    return e->code < ERR_COUNT ? s_errors[e->code].code : "internal";
}

const char *error_title(enum err_code code)
{
    return code < ERR_COUNT ? s_errors[code].title : "Internal Server Error";
}

cJSON *error_to_json(const struct error *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "about:blank");
    cJSON_AddStringToObject(j, "title", error_title(e->code));
    cJSON_AddNumberToObject(j, "status", error_status(e->code));
    cJSON_AddStringToObject(j, "code", error_code_str(e));
    const char *detail = e->detail[0] ? e->detail : error_title(e->code);
    if (e->fields_cut) {
        char more[400];
        snprintf(more, sizeof more, "%s (the first %d errors are listed; %d more were cut)", detail,
                 ERROR_MAX_FIELDS, e->fields_cut);
        cJSON_AddStringToObject(j, "detail", more);
    } else {
        cJSON_AddStringToObject(j, "detail", detail);
    }
    if (e->fields) cJSON_AddItemToObject(j, "errors", cJSON_Duplicate(e->fields, 1));
    for (const cJSON *m = e->extra ? e->extra->child : NULL; m; m = m->next)
        cJSON_AddItemToObject(j, m->string, cJSON_Duplicate(m, 1));
    return j;
}

struct error *error_project_halted(const char *state)
{
    struct error *e;
    if (state && strcmp(state, "suspended") == 0)
        e = error_new(ERR_PROJECT_SUSPENDED,
                      "the project is suspended: nothing of it changes until it is resumed");
    else if (state && strcmp(state, "terminated") == 0)
        e = error_new(ERR_INVALID_STATE,
                      "the project is terminated: nothing of it changes any more");
    else
        return NULL;
    error_set(e, "state", cJSON_CreateString(state));
    return e;
}
