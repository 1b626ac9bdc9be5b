-- delivery (articles 8-13): from an approved project to a system in
-- operation. The project's new states, and one table per record: the
-- implementation plan's revisions and its milestones, contracts (reviewed
-- in the approvals service), the six deliverables (every version kept),
-- the asset registration, payments, the go-live record, and the approval
-- cases about the project as their events told (for the dossier). Nothing
-- here is ever deleted; a later record supersedes, never erases.
ALTER TABLE projects DROP CONSTRAINT projects_state_check;
ALTER TABLE projects ADD CONSTRAINT projects_state_check
    CHECK (state IN ('draft', 'under_review', 'returned', 'awaiting_decision', 'approved',
                     'rejected', 'implementing', 'acceptance_review', 'accepted',
                     'in_operation'));

-- every revision of a project's implementation plan, as it was given
CREATE TABLE implementation_plans (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id),
    revision   integer NOT NULL,
    goals      text NOT NULL,
    team       jsonb NOT NULL,   -- [{name, role, duty}]
    milestones jsonb NOT NULL,   -- the milestones as this revision left them
    author_id  bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, revision)
);

-- the project's milestones: added by revisions, due dates moved while incomplete
CREATE TABLE milestones (
    id           bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id),
    name         text NOT NULL,
    due_date     date NOT NULL,
    completed_at timestamptz,
    completed_by bigint,
    note         text,
    overdue_at   timestamptz,    -- when milestone.overdue was emitted for this due date
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);
CREATE INDEX milestones_due ON milestones (due_date) WHERE completed_at IS NULL;

CREATE TABLE contracts (
    id                 bigserial PRIMARY KEY,
    project_id         bigint NOT NULL REFERENCES projects (id),
    contract_no        text NOT NULL UNIQUE,
    vendor             text NOT NULL,
    amount_cents       bigint NOT NULL CHECK (amount_cents > 0),
    paid_cents         bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0 AND paid_cents <= amount_cents),
    signed_at          timestamptz NOT NULL,
    procurement_method text NOT NULL
                       CHECK (procurement_method IN ('public_tender', 'competitive_negotiation',
                                                     'single_source', 'inquiry',
                                                     'framework_agreement')),
    state              text NOT NULL DEFAULT 'pending_review'
                       CHECK (state IN ('pending_review', 'approved', 'rejected')),
    submission         integer NOT NULL DEFAULT 1, -- matches the review case (consumer.c)
    version            integer NOT NULL DEFAULT 1,
    created_by         bigint NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contracts_project ON contracts (project_id, id);

-- the six deliverables of article 11; a later one of a kind supersedes
CREATE TABLE deliverables (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id),
    kind        text NOT NULL
                CHECK (kind IN ('install_manual', 'user_manual', 'admin_manual',
                                'developer_manual', 'test_report', 'training_record')),
    version     integer NOT NULL,
    title       text NOT NULL,
    uri         text NOT NULL,
    sha256      text NOT NULL,
    author_id   bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, kind, version)
);

CREATE TABLE assets (
    id            bigserial PRIMARY KEY,
    project_id    bigint NOT NULL UNIQUE REFERENCES projects (id),
    asset_no      text NOT NULL UNIQUE,
    value_cents   bigint NOT NULL CHECK (value_cents >= 0),
    registered_at timestamptz NOT NULL,
    custodian     text NOT NULL,
    created_by    bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payments (
    id           bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id),
    contract_id  bigint NOT NULL REFERENCES contracts (id),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    paid_at      timestamptz NOT NULL,
    voucher_no   text NOT NULL UNIQUE,
    created_by   bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_project ON payments (project_id, id);

CREATE TABLE go_lives (
    project_id                  bigint PRIMARY KEY REFERENCES projects (id),
    deployment_plan_uri         text NOT NULL,
    emergency_plan_uri          text NOT NULL,
    test_environment_report_uri text NOT NULL,
    test_passed                 boolean NOT NULL CHECK (test_passed),
    planned_at                  timestamptz NOT NULL,
    created_by                  bigint NOT NULL,
    created_at                  timestamptz NOT NULL DEFAULT now()
);

-- the approval cases about a project or its contracts, as the newest
-- approvals event about each told (consumer.c), for the dossier
CREATE TABLE approval_cases (
    case_id    bigint PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id),
    kind       text NOT NULL,
    subject    text NOT NULL,
    doc        jsonb NOT NULL,
    sourceseq  bigint NOT NULL,  -- of the event the doc came from
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approval_cases_project ON approval_cases (project_id, case_id);

CREATE TRIGGER implementation_plans_no_delete BEFORE DELETE ON implementation_plans
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER milestones_no_delete BEFORE DELETE ON milestones
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER contracts_no_delete BEFORE DELETE ON contracts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER deliverables_no_delete BEFORE DELETE ON deliverables
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER assets_no_delete BEFORE DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER go_lives_no_delete BEFORE DELETE ON go_lives
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER approval_cases_no_delete BEFORE DELETE ON approval_cases
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION contract_doc(c contracts) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'project_id', c.project_id,
        'contract_no', c.contract_no, 'vendor', c.vendor, 'amount_cents', c.amount_cents,
        'paid_cents', c.paid_cents, 'signed_at', rfc3339(c.signed_at),
        'procurement_method', c.procurement_method, 'status', c.state,
        'version', c.version, 'created_by', c.created_by,
        'created_at', rfc3339(c.created_at), 'updated_at', rfc3339(c.updated_at))
$$;
-- what events about a contract carry: the document, its project's
-- department (the approvals case is that department's) and the submission
CREATE FUNCTION contract_event(c contracts) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT contract_doc(c) || jsonb_build_object('submission', c.submission,
        'department_id', (SELECT p.department_id FROM projects p WHERE p.id = c.project_id))
$$;
