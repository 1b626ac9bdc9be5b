/*
 * The audit service (architecture, invariants 2-4; mission, article 16): the
 * append-only log of every event of every service, hash-chained and kept as
 * the leaves of an RFC 6962 Merkle tree whose heads it signs, its ZeroMQ PUB
 * feed (port 5560) and, by files of their own, webhook subscriptions and the
 * events API (GET /api/v1/events).
 *
 * The stored log, audit.entries (created by deploy/db/init.sql, owned by the
 * NOLOGIN role audit_owner; the audit role may only INSERT and SELECT it):
 *   seq        bigint PRIMARY KEY   1, 2, 3, ... gap-free, in storage order
 *   event_id   uuid NOT NULL UNIQUE the CloudEvent id
 *   type       text NOT NULL        itgov.account.user.created
 *   source     text NOT NULL        /itgov/accounts
 *   subject    text                 users/7
 *   actor_id   bigint               the CloudEvent "actor"
 *   time       timestamptz NOT NULL the CloudEvent "time"
 *   data       jsonb                the CloudEvent "data"
 *   cloudevent text NOT NULL        the CloudEvent JSON exactly as the public
 *                                   feed gives it, including "seq"
 *   prev_hash  text NOT NULL        hash of seq-1 (64 zeros for seq 1)
 *   hash       text NOT NULL        SHA-256(prev_hash as 32 raw bytes ||
 *                                   the UTF-8 bytes of cloudevent), lowercase hex
 *   stored_at  timestamptz NOT NULL DEFAULT now()
 *
 * Files: main.c (config, start), routes.c (the route table), ingest.c (bus,
 * per-source catch-up, batches, chain), chain.c (hashing, pure), merkle.c
 * (tree and proofs, pure), checkpoint.c (signing key and signed heads),
 * log_api.c (GET /api/v1/audit, verify), proofs.c (checkpoint, public key,
 * proof routes), pub.c (ZeroMQ PUB). Owned by the webhooks work:
 * subscriptions.c, webhooks.c, target.c (where a webhook may
 * point), events_api.c. The to-do list (issue 13): tasks.c (the follower
 * of the log keeping the tasks, GET /api/v1/me/tasks), task_kinds.c (the
 * kinds of task, pure).
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include "itgov/http.h"
#include "itgov/service.h"

struct service;

/* Settings (ITGOV_AUDIT_*), filled by main.c before the service starts. */
struct audit_config {
    const char *sources;  /* "accounts=http://127.0.0.1:8081,..." catch-up URLs */
    const char *key_file; /* Ed25519 signing key (generated if absent) */
    long pub_port;        /* ZeroMQ PUB of the public feed */
    long catchup_ms;      /* how often each source's outbox is polled */
    long batch_max;       /* events per INSERT */

    const char *feed_secret;   /* CURVE server secret key of the public feed */
    const char *client_keys;   /* ITGOV_EVENT_CLIENT_KEYS: who may subscribe */
    const char *broker_public; /* the broker's CURVE public key */

    const char *eval_weights; /* ITGOV_EVAL_WEIGHTS: "usage=20,..." (issue 12 E) */

    /* issue 14 A: the silence rule (findings.c) */
    const char *silence_h; /* ITGOV_ANCHOR_SILENCE_H: hours without a digest, fractions allowed */
    long scan_interval_s;  /* ITGOV_SCAN_INTERVAL_S: how often the rule runs */
};
extern struct audit_config audit_cfg;

/* The running service (set when the loop's resources exist). */
extern struct service *audit_svc;

extern const struct route audit_routes[];
extern const size_t audit_nroutes;

/* ---- the webhooks and the events API (subscriptions.c, webhooks.c,
 * events_api.c). Compiled in when those files exist (AUDIT_HAVE_WEBHOOKS). ---- */

/* Called once from the start hook, after ingest is running; 0 = ok. */
int webhooks_start(struct service *svc);
/* Called after entries up to last_seq (inclusive) are committed, in order. */
void webhooks_notify(long long last_seq);

/* ---- evaluations (issue 12 E, evaluations.c) ---- */
/* Reads ITGOV_EVAL_WEIGHTS (audit_config.eval_weights); false if malformed. */
bool evaluations_start(const char *weights_spec);
void evaluations_project(struct req *r);
void evaluations_department(struct req *r);
void evaluations_publish(struct req *r);
void evaluations_published(struct req *r);

/* ---- the to-do list (issue 13 T, tasks.c; the kinds: task_kinds.c) ---- */
/* Starts the follower of the log that keeps the tasks; 0 = ok. */
int tasks_start(struct service *svc);
void tasks_stop(void);
void tasks_metrics(struct evbuffer *out);
void tasks_list(struct req *r);
void tasks_summary(struct req *r);

#endif
