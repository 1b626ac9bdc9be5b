/*
 * The one error type. Every refusal a service makes is a `struct error`: a
 * stable machine code from the list below (which also fixes its HTTP status
 * and title), a human detail, optional field errors and extra members. It
 * becomes an application/problem+json reply in exactly one place (http.c).
 */
#ifndef ITGOV_ERROR_H
#define ITGOV_ERROR_H

#include <cjson/cJSON.h>

/* X(name, http status, code, title) — the single list of error codes.
 * Problems use `type: about:blank`, so `title` is always the RFC 9110 reason
 * phrase of the status (RFC 6585 for 428/429/431) and never says more; what
 * went wrong is the machine `code` and the human `detail`. The gateway
 * (deploy/nginx/gateway.conf.in) answers with the same titles and codes, plus
 * bad_gateway (502), gateway_timeout (504) and http_version_not_supported
 * (505), which only it gives. */
#define ITGOV_ERRORS(X)                                                                            \
    X(ERR_BAD_REQUEST, 400, "bad_request", "Bad Request")                                          \
    X(ERR_INVALID_JSON, 400, "invalid_json", "Bad Request")                                        \
    X(ERR_VALIDATION, 400, "validation_failed", "Bad Request")                                     \
    X(ERR_UNAUTHORIZED, 401, "unauthorized", "Unauthorized")                                       \
    X(ERR_INVALID_CREDENTIALS, 401, "invalid_credentials", "Unauthorized")                         \
    X(ERR_FORBIDDEN, 403, "forbidden", "Forbidden")                                                \
    X(ERR_NOT_FOUND, 404, "not_found", "Not Found")                                                \
    X(ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed", "Method Not Allowed")                     \
    X(ERR_CONFLICT, 409, "conflict", "Conflict")                                                   \
    X(ERR_INVALID_STATE, 409, "invalid_state", "Conflict")                                         \
    X(ERR_PROJECT_SUSPENDED, 409, "project_suspended", "Conflict")                                 \
    X(ERR_PRECONDITION_FAILED, 412, "precondition_failed", "Precondition Failed")                  \
    X(ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large", "Content Too Large")                        \
    X(ERR_URI_TOO_LONG, 414, "uri_too_long", "URI Too Long")                                       \
    X(ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type", "Unsupported Media Type")         \
    X(ERR_UNPROCESSABLE, 422, "unprocessable", "Unprocessable Content")                            \
    X(ERR_PRECONDITION_REQUIRED, 428, "precondition_required", "Precondition Required")            \
    X(ERR_LOGIN_LOCKED, 429, "login_locked", "Too Many Requests")                                  \
    X(ERR_HEADERS_TOO_LARGE, 431, "headers_too_large", "Request Header Fields Too Large")          \
    X(ERR_INTERNAL, 500, "internal", "Internal Server Error")                                      \
    X(ERR_NOT_IMPLEMENTED, 501, "not_implemented", "Not Implemented")                              \
    X(ERR_UNAVAILABLE, 503, "unavailable", "Service Unavailable")

enum err_code {
#define X(name, status, code, title) name,
    ITGOV_ERRORS(X)
#undef X
        ERR_COUNT
};

/* A reply names at most this many fields (a body with 95,000 unknown keys
 * gets the first 50, and its detail says how many more there were); a field
 * name longer than ERROR_MAX_FIELD_NAME bytes is cut (at a character). */
#define ERROR_MAX_FIELDS     50
#define ERROR_MAX_FIELD_NAME 200

struct error {
    enum err_code code;
    char detail[256];
    cJSON *fields;             /* array of {field, message}, or NULL */
    int nfields;               /* in fields */
    int fields_cut;            /* added beyond ERROR_MAX_FIELDS, not listed */
    cJSON *extra;              /* object of extra problem members (state, missing, ...), or NULL */
    int retry_after;           /* seconds; 0 = no Retry-After header */
    const char *code_override; /* a gate's own code (e.g. "missing_deliverables"), or NULL */
};

/* Creates an error; detail is printf-formatted (may be NULL). */
struct error *error_new(enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void error_destroy(struct error **self_p);

/* Adds {field, message} to a validation error (up to ERROR_MAX_FIELDS). */
void error_add_field(struct error *e, const char *field, const char *message);
/* Adds an extra member to the problem body (takes ownership of value). */
void error_set(struct error *e, const char *name, cJSON *value);

int error_status(enum err_code code);
const char *error_code_str(const struct error *e);
const char *error_title(enum err_code code);
/* The problem+json body; caller owns the result. */
cJSON *error_to_json(const struct error *e);

/* The refusal of any write on a halted project (issue 12, article 22), one
 * for every service: state "suspended" → 409 project_suspended, "terminated"
 * → 409 invalid_state, both naming the state in `state`; NULL for any other
 * state (or NULL). */
struct error *error_project_halted(const char *state);

#endif
