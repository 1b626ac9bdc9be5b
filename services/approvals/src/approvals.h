/*
 * The approvals service: review cases (case_kinds.c says what may happen in
 * each kind), expert invitations and opinions, reviews and meeting
 * decisions. A case opens by itself when a project or plan is submitted
 * (consumer.c); its review and decision events move the subject in the
 * projects service. Deadlines are watched here (consumer.c, the scan).
 */
#ifndef APPROVALS_H
#define APPROVALS_H

#include "itgov/http.h"

struct approvals_config {
    long review_days;
    long scan_interval_s;
    const char *broker_host;
    long broker_xpub_port;
    const char *projects_host;
    long projects_port;
    const char *accounts_host;
    long accounts_port;
    long feed_poll_ms;
};
extern struct approvals_config approvals_cfg;

extern const struct route approvals_routes[];
extern const size_t approvals_nroutes;

/* cases.c */
void cases_list(struct req *r);
void cases_get(struct req *r);
void cases_invite(struct req *r);
void cases_opinion(struct req *r);
void cases_review(struct req *r);
void cases_decision(struct req *r);

/* consumer.c */
struct service;
int consumer_start(struct service *svc);
void consumer_stop(struct service *svc);

#endif
