/* The route handlers of the audit service (one file each: log_api.c,
 * proofs.c). */
#ifndef AUDIT_LOG_API_H
#define AUDIT_LOG_API_H

#include "itgov/http.h"
#include "merkle.h"

/* log_api.c */
void audit_list(struct req *r);
void audit_verify(struct req *r);

/* proofs.c */
void audit_public_key(struct req *r);
void audit_checkpoint(struct req *r);
void audit_inclusion(struct req *r);
void audit_consistency(struct req *r);
/* The n hashes of an audit path or consistency proof as a JSON array of
 * lowercase hex (also log_digests.c's inclusion proof). */
struct cJSON *proof_hashes_json(merkle_hash *h, int n);

#endif
