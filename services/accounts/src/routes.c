/* The accounts API: one row per route (method, path, handler, who may call). */
#include "accounts.h"

const struct route accounts_routes[] = {
    {"POST", "/api/v1/sessions", sessions_login, ROLE_PUBLIC},
    {"GET", "/api/v1/sessions", sessions_list, ROLE_ADMIN},
    {"DELETE", "/api/v1/sessions/current", sessions_logout, ROLE_ANY},
    {"DELETE", "/api/v1/sessions/:id", sessions_end, ROLE_ADMIN},
    {"GET", "/api/v1/me", me_get, ROLE_ANY},
    {"PUT", "/api/v1/me/password", me_password, ROLE_ANY},
    {"POST", "/api/v1/departments", departments_create, ROLE_ADMIN},
    {"GET", "/api/v1/departments", departments_list, ROLE_ANY},
    {"GET", "/api/v1/departments/:id", departments_get, ROLE_ANY},
    {"POST", "/api/v1/users", users_create, ROLE_ADMIN},
    {"GET", "/api/v1/users", users_list, ROLE_ADMIN | ROLE_AUDITOR},
    {"GET", "/api/v1/users/:id", users_get, ROLE_ANY},
    {"PATCH", "/api/v1/users/:id", users_update, ROLE_ADMIN},
    {"POST", "/api/v1/users/:id/disable", users_disable, ROLE_ADMIN},
    {"POST", "/api/v1/users/:id/enable", users_enable, ROLE_ADMIN},

    /* issue 11 E: access reviews (access_reviews.c) */
    {"GET", "/api/v1/access-reviews/findings", access_reviews_findings, ROLE_ADMIN | ROLE_AUDITOR},
    {"POST", "/api/v1/access-reviews", access_reviews_create, ROLE_ADMIN},
    {"GET", "/api/v1/access-reviews", access_reviews_list, ROLE_ADMIN | ROLE_AUDITOR},
    {"GET", "/api/v1/access-reviews/:id", access_reviews_get, ROLE_ADMIN | ROLE_AUDITOR},
};
const size_t accounts_nroutes = sizeof accounts_routes / sizeof accounts_routes[0];
