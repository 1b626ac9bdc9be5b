/* The audit API: one row per route (method, path, handler, who may call). */
#include "audit.h"
#include "log_api.h"

#define READERS (ROLE_AUDITOR | ROLE_ADMIN | ROLE_IT_OFFICE)

const struct route audit_routes[] = {
    {"GET", "/api/v1/audit", audit_list, READERS},
    {"GET", "/api/v1/audit/verify", audit_verify, ROLE_AUDITOR | ROLE_ADMIN},
    {"GET", "/api/v1/audit/checkpoint", audit_checkpoint, ROLE_PUBLIC},
    {"GET", "/api/v1/audit/public-key", audit_public_key, ROLE_PUBLIC},
    {"GET", "/api/v1/audit/proof/inclusion", audit_inclusion, ROLE_PUBLIC},
    {"GET", "/api/v1/audit/proof/consistency", audit_consistency, ROLE_PUBLIC},
};
const size_t audit_nroutes = sizeof audit_routes / sizeof audit_routes[0];
