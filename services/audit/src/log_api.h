/* The route handlers of the audit service (one file each: log_api.c,
 * proofs.c). */
#ifndef AUDIT_LOG_API_H
#define AUDIT_LOG_API_H

#include "itgov/http.h"

/* log_api.c */
void audit_list(struct req *r);
void audit_verify(struct req *r);

/* proofs.c */
void audit_public_key(struct req *r);
void audit_checkpoint(struct req *r);
void audit_inclusion(struct req *r);
void audit_consistency(struct req *r);

#endif
