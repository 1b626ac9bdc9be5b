-- approvals: review cases with their experts, opinions, review and meeting
-- decision; a replica of users' roles (from account events) to check who
-- may be invited as an expert; what was consumed (inbox, feed_cursor).
CREATE TABLE cases (
    id                    bigserial PRIMARY KEY,
    kind                  text NOT NULL,
    subject               text NOT NULL,            -- 'projects/42', 'plans/3'
    subject_department_id bigint,                   -- the owning department, if any
    submission            integer NOT NULL DEFAULT 0, -- which submission of the subject
    step                  text NOT NULL,
    outcome               text CHECK (outcome IN ('approved', 'rejected', 'returned')),
    review                jsonb,
    decision              jsonb,
    opened_at             timestamptz NOT NULL DEFAULT now(),
    due_at                timestamptz NOT NULL,
    closed_at             timestamptz,
    overdue_at            timestamptz,              -- when case.overdue was emitted
    version               integer NOT NULL DEFAULT 1
);
-- a subject has at most one open case
CREATE UNIQUE INDEX cases_one_open ON cases (subject) WHERE step <> 'closed';
CREATE INDEX cases_subject ON cases (subject, id);
CREATE INDEX cases_due ON cases (due_at) WHERE step <> 'closed' AND overdue_at IS NULL;

CREATE TABLE case_experts (
    case_id    bigint NOT NULL REFERENCES cases (id),
    user_id    bigint NOT NULL,
    invited_by bigint,
    invited_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_experts_user ON case_experts (user_id, case_id);

CREATE TABLE opinions (
    id                   bigserial PRIMARY KEY,
    case_id              bigint NOT NULL REFERENCES cases (id),
    author_id            bigint NOT NULL,
    stance               text NOT NULL CHECK (stance IN ('support', 'oppose', 'abstain')),
    comment              text NOT NULL DEFAULT '',
    conflict_of_interest boolean NOT NULL DEFAULT false,
    at                   timestamptz NOT NULL DEFAULT now(),
    -- one opinion per person per case
    CONSTRAINT opinions_opinion_key UNIQUE (case_id, author_id)
);

-- users as the accounts service announces them (account.user.* events)
CREATE TABLE users (
    id            bigint PRIMARY KEY,
    roles         text[] NOT NULL,
    department_id bigint,
    disabled      boolean NOT NULL DEFAULT false,
    updated_at    text NOT NULL DEFAULT ''
);

CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER case_experts_no_delete BEFORE DELETE ON case_experts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER opinions_no_delete BEFORE DELETE ON opinions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER users_no_delete BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION case_doc(c cases) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'kind', c.kind, 'subject', c.subject,
        'step', c.step, 'outcome', c.outcome,
        'experts', (SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', x.user_id,
                        'invited_by', x.invited_by, 'invited_at', rfc3339(x.invited_at))
                        ORDER BY x.invited_at, x.user_id), '[]'::jsonb)
                      FROM case_experts x WHERE x.case_id = c.id),
        'opinions', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id,
                        'author_id', o.author_id, 'stance', o.stance, 'comment', o.comment,
                        'conflict_of_interest', o.conflict_of_interest,
                        'counted', NOT o.conflict_of_interest, 'at', rfc3339(o.at))
                        ORDER BY o.id), '[]'::jsonb)
                       FROM opinions o WHERE o.case_id = c.id),
        'review', c.review, 'decision', c.decision,
        'opened_at', rfc3339(c.opened_at), 'due_at', rfc3339(c.due_at),
        'overdue', c.step <> 'closed' AND c.due_at < now(),
        'closed_at', rfc3339(c.closed_at))
$$;
