-- issue 12 B: suspension, resume and termination of a project (article
-- 22). An escalation case's decision (approvals) moves the project
-- (consumer.c): suspended from any state from approval on, keeping that
-- state in suspended_from; resumed back to it; terminated (final). The IT
-- office's request to resume a suspended project is a record here
-- (resume_requests), at most one open per project; the escalation case it
-- opens, once decided, closes it.

ALTER TABLE projects DROP CONSTRAINT projects_state_check;
ALTER TABLE projects ADD CONSTRAINT projects_state_check
    CHECK (state IN ('draft', 'under_review', 'returned', 'awaiting_decision', 'approved',
                     'rejected', 'implementing', 'acceptance_review', 'accepted',
                     'in_operation', 'suspended', 'terminated'));

-- the state a suspended project was suspended from; NULL unless suspended
ALTER TABLE projects ADD COLUMN suspended_from text
    CHECK (suspended_from IN ('approved', 'implementing', 'acceptance_review', 'accepted',
                              'in_operation'));
ALTER TABLE projects ADD CONSTRAINT projects_suspended_from
    CHECK ((state = 'suspended') = (suspended_from IS NOT NULL));

-- json, not jsonb: built for the hot read path, in the field order shown
CREATE OR REPLACE FUNCTION project_doc(p projects) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', p.id, 'title', p.title, 'kind', p.kind,
        'summary', p.summary, 'budget_cents', p.budget_cents,
        'plan_item_code', p.plan_item_code, 'serves_external_units', p.serves_external_units,
        'state', p.state, 'suspended_from', p.suspended_from,
        'department_id', p.department_id, 'applicant_id', p.applicant_id,
        'version', p.version, 'created_at', rfc3339(p.created_at),
        'updated_at', rfc3339(p.updated_at))
$$;

-- The IT office's requests to resume a suspended project. Open until the
-- escalation case it opened is decided (consumer.c: outcome resume, reject
-- or terminate, and the case).
CREATE TABLE resume_requests (
    id           bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id),
    reason       text NOT NULL,
    requested_by bigint NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    case_id      bigint,
    outcome      text CHECK (outcome IN ('resume', 'reject', 'terminate')),
    decided_at   timestamptz,
    CHECK ((outcome IS NULL) = (decided_at IS NULL))
);
-- one open request per project: a second one is 409 conflict
CREATE UNIQUE INDEX resume_requests_one_open ON resume_requests (project_id)
    WHERE decided_at IS NULL;
CREATE TRIGGER resume_requests_no_delete BEFORE DELETE ON resume_requests
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION resume_request_doc(q resume_requests) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', q.id, 'project_id', q.project_id, 'reason', q.reason,
        'requested_by', q.requested_by, 'requested_at', rfc3339(q.requested_at),
        'status', CASE WHEN q.decided_at IS NULL THEN 'open' ELSE 'decided' END,
        'case_id', q.case_id, 'outcome', q.outcome, 'decided_at', rfc3339(q.decided_at))
$$;
