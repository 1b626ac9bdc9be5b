-- issue 12 A: supervision of a project from `approved` on — the IT office's
-- information requests (article 21) and rectification orders (article 22),
-- both watched by deadline scans (scan.c), and the results it shares
-- (article 26). Each record keeps its project's department (a project never
-- changes department) so its events say whose it is. Nothing is deleted: a
-- rectification's responses and verifications are kept, in order, in
-- rectification_actions, which is append-only.

CREATE TABLE info_requests (
    id            bigserial PRIMARY KEY,
    project_id    bigint NOT NULL REFERENCES projects (id),
    department_id bigint NOT NULL,
    question      text NOT NULL,
    due_date      date NOT NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'overdue')),
    answer        text,
    attachments   jsonb NOT NULL DEFAULT '[]',
    answered_at   timestamptz,
    answered_by   bigint,
    -- answered after its due date (in UTC), whether or not the scan had flagged it
    answered_late boolean NOT NULL DEFAULT false,
    overdue_at    timestamptz, -- when the scan flagged it (once)
    issued_by     bigint NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'answered' OR (answer IS NOT NULL AND answered_at IS NOT NULL))
);
CREATE INDEX info_requests_project ON info_requests (project_id, id);
CREATE INDEX info_requests_watch ON info_requests (due_date) WHERE status = 'open';

-- status: open → responded (the department) → closed | open (reopened by
-- the IT office's verification); open or responded → overdue (the scan,
-- once: overdue_at) → responded → closed | open. awaiting_verification:
-- the department's newest response is not verified yet (a responded
-- rectification the scan made overdue still awaits it).
CREATE TABLE rectifications (
    id                    bigserial PRIMARY KEY,
    project_id            bigint NOT NULL REFERENCES projects (id),
    department_id         bigint NOT NULL,
    issue                 text NOT NULL,
    required_action       text NOT NULL,
    deadline              timestamptz NOT NULL,
    status                text NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'responded', 'overdue', 'closed')),
    awaiting_verification boolean NOT NULL DEFAULT false,
    response_description  text,
    evidence_uri          text,
    responded_at          timestamptz,
    responded_by          bigint,
    verification_outcome  text CHECK (verification_outcome IN ('closed', 'reopened')),
    verification_comment  text,
    verified_at           timestamptz,
    verified_by           bigint,
    closed_at             timestamptz,
    reopen_count          integer NOT NULL DEFAULT 0,
    overdue_at            timestamptz, -- when the scan flagged it (once)
    issued_by             bigint NOT NULL,
    version               integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'responded' OR awaiting_verification),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (NOT awaiting_verification OR responded_at IS NOT NULL)
);
CREATE INDEX rectifications_project ON rectifications (project_id, id);
CREATE INDEX rectifications_watch ON rectifications (deadline)
    WHERE status IN ('open', 'responded') AND overdue_at IS NULL;

CREATE TABLE rectification_actions (
    id               bigserial PRIMARY KEY,
    rectification_id bigint NOT NULL REFERENCES rectifications (id),
    action           text NOT NULL CHECK (action IN ('response', 'verification')),
    description      text,   -- a response's
    evidence_uri     text,   -- a response's
    outcome          text CHECK (outcome IN ('closed', 'reopened')), -- a verification's
    comment          text,   -- a verification's
    actor_id         bigint NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rectification_actions_of ON rectification_actions (rectification_id, id);

CREATE TABLE shared_results (
    id            bigserial PRIMARY KEY,
    project_id    bigint NOT NULL REFERENCES projects (id),
    department_id bigint NOT NULL,
    title         text NOT NULL,
    summary       text NOT NULL,
    audience      text NOT NULL CHECK (audience IN ('university', 'public')),
    uri           text NOT NULL,
    published_by  bigint NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1
);
CREATE INDEX shared_results_project ON shared_results (project_id, id);
CREATE INDEX shared_results_audience ON shared_results (audience, id);

CREATE TRIGGER info_requests_no_delete BEFORE DELETE ON info_requests
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER rectifications_no_delete BEFORE DELETE ON rectifications
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER shared_results_no_delete BEFORE DELETE ON shared_results
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION refuse_rectification_action_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a rectification''s responses and verifications are never changed or removed'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER rectification_actions_append_only BEFORE UPDATE OR DELETE ON rectification_actions
    FOR EACH ROW EXECUTE FUNCTION refuse_rectification_action_change();
CREATE TRIGGER rectification_actions_no_truncate BEFORE TRUNCATE ON rectification_actions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rectification_action_change();

CREATE FUNCTION info_request_doc(i info_requests) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', i.id, 'project_id', i.project_id,
        'department_id', i.department_id, 'question', i.question,
        'due_date', to_char(i.due_date, 'YYYY-MM-DD'), 'status', i.status,
        'answer', i.answer, 'attachments', i.attachments,
        'answered_at', rfc3339(i.answered_at), 'answered_by', i.answered_by,
        'answered_late', i.answered_late, 'overdue_at', rfc3339(i.overdue_at),
        'issued_by', i.issued_by, 'version', i.version,
        'created_at', rfc3339(i.created_at), 'updated_at', rfc3339(i.updated_at))
$$;

CREATE FUNCTION rectification_doc(x rectifications) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', x.id, 'project_id', x.project_id,
        'department_id', x.department_id, 'issue', x.issue,
        'required_action', x.required_action, 'deadline', rfc3339(x.deadline),
        'status', x.status, 'awaiting_verification', x.awaiting_verification,
        'response', CASE WHEN x.responded_at IS NOT NULL THEN jsonb_build_object(
            'description', x.response_description, 'evidence_uri', x.evidence_uri) END,
        'responded_at', rfc3339(x.responded_at), 'responded_by', x.responded_by,
        'verification', CASE WHEN x.verified_at IS NOT NULL THEN jsonb_build_object(
            'outcome', x.verification_outcome, 'comment', x.verification_comment,
            'verified_at', rfc3339(x.verified_at), 'verified_by', x.verified_by) END,
        'closed_at', rfc3339(x.closed_at),
        'closed_on_time', CASE WHEN x.closed_at IS NOT NULL THEN x.closed_at <= x.deadline END,
        'reopen_count', x.reopen_count, 'overdue_at', rfc3339(x.overdue_at),
        'issued_by', x.issued_by, 'version', x.version,
        'created_at', rfc3339(x.created_at), 'updated_at', rfc3339(x.updated_at))
$$;

-- the responses and verifications of a rectification, oldest first
CREATE FUNCTION rectification_action_doc(a rectification_actions) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('id', a.id, 'action', a.action,
        'description', a.description, 'evidence_uri', a.evidence_uri,
        'outcome', a.outcome, 'comment', a.comment)) ||
        jsonb_build_object('actor_id', a.actor_id, 'at', rfc3339(a.at))
$$;

CREATE FUNCTION shared_result_doc(s shared_results) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'project_id', s.project_id,
        'department_id', s.department_id, 'title', s.title, 'summary', s.summary,
        'audience', s.audience, 'uri', s.uri, 'published_by', s.published_by,
        'published_at', rfc3339(s.published_at))
$$;
