/*
 * The kinds of task of the to-do list (issue 13, GET /api/v1/me/tasks): one
 * row per kind — the event type that opens a task (and the conditions on
 * its data), the event types that close it, who may act, its key, title and
 * actions. A new workflow adds a row to task_kinds[] (task_kinds.c) and to
 * the unit test. Pure: no database, no I/O; tasks.c applies what
 * task_ops() makes of an event (migrations/0019_tasks.sql, tasks_apply).
 */
#ifndef TASK_KINDS_H
#define TASK_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

enum task_audience {
    TASK_BY_ROLE, /* every user with one of the roles */
    TASK_BY_DEPT, /* the users of a department with one of the roles */
    TASK_BY_USER, /* one user (an invited expert), whatever their roles */
};

struct task_kind {
    const char *kind;      /* initiation_review, rectification, ... */
    const char *opened_by; /* the event type that opens (or reopens) a task */
    const char *when;      /* conditions on that event: "path=a|b;path!=c", NULL: none */
    const char *closed_by; /* event types that close it, comma-separated */
    /* a path in a closing event: when the event has it, only that user's task
     * closes (an expert's opinion); otherwise every task of the key closes */
    const char *close_user;
    const char *close_when; /* conditions on a closing event, NULL: none */
    unsigned roles;         /* ROLE_* (itgov/session.h): who may act */
    enum task_audience audience;
    /* TASK_BY_DEPT: the path of the department id (NULL: the project's, from
     * the log); TASK_BY_USER: the path of the user id */
    const char *audience_path;
    const char *key;     /* template, the same from the opening and closing events */
    const char *subject; /* template: what to act on, REST path below /api/v1 */
    /* the path of the project: a number, or a subject "projects/{id}" (any
     * other subject: the project its newest event names, from the log) */
    const char *project;
    const char *case_id; /* path or NULL */
    const char *step;    /* path or NULL */
    const char *due;     /* path of an instant or a date (YYYY-MM-DD), or NULL */
    const char *title;   /* template */
    const char *actions; /* comma-separated */
};

extern const struct task_kind task_kinds[];
extern const size_t task_nkinds;

/* The first row of a kind, or NULL. */
const struct task_kind *task_kind_find(const char *kind);
/* Whether an event type opens or closes any kind of task. */
bool task_type_relevant(const char *type);
/* Every event type that opens or closes a task, once each, NULL-terminated
 * in out (at most n - 1); returns how many. */
size_t task_types(const char **out, size_t n);

/* The value at a dotted path of data ("case.id"), or NULL. */
const cJSON *task_path(const cJSON *data, const char *path);
/* Whether data meets the conditions ("case.kind=initiation;case.step=review",
 * "status!=closed", alternatives with |); NULL or "" is always met. */
bool task_when(const char *when, const cJSON *data);
/* Fills a template: {subject} is the event's subject, {a.b} the value at a
 * path of data (a string or an integer). False if a placeholder has no
 * value or the result does not fit. */
bool task_fill(const char *tmpl, const char *subject, const cJSON *data, char *out, size_t n);

/* What an event does to the tasks, in order (closes first, then opens), as
 * the operations tasks_apply() takes (migrations/0019_tasks.sql); appended
 * to ops. actor 0: none. Returns how many were added. */
int task_ops(const char *type, const char *subject, long long actor, const char *time,
             long long seq, const cJSON *data, cJSON *ops);

#endif
