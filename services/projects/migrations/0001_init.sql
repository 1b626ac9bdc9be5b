-- projects: yearly IT plans with their items, project applications, their
-- transitions, who may read them as invited experts, and what this service
-- has consumed from others (inbox, feed_cursor).
CREATE TABLE plans (
    id           bigserial PRIMARY KEY,
    year         integer NOT NULL,
    title        text NOT NULL,
    items        jsonb NOT NULL DEFAULT '[]',
    state        text NOT NULL DEFAULT 'draft'
                 CHECK (state IN ('draft', 'under_review', 'approved', 'rejected')),
    version      integer NOT NULL DEFAULT 1,
    submission   integer NOT NULL DEFAULT 0,
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id                    bigserial PRIMARY KEY,
    title                 text NOT NULL DEFAULT '',
    kind                  text NOT NULL
                          CHECK (kind IN ('new_system', 'upgrade', 'hardware', 'procurement')),
    summary               text NOT NULL DEFAULT '',
    budget_cents          bigint NOT NULL DEFAULT 0,
    plan_item_code        text,
    serves_external_units boolean NOT NULL DEFAULT false,
    state                 text NOT NULL DEFAULT 'draft'
                          CHECK (state IN ('draft', 'under_review', 'returned',
                                           'awaiting_decision', 'approved', 'rejected')),
    department_id         bigint NOT NULL,
    applicant_id          bigint NOT NULL,
    version               integer NOT NULL DEFAULT 1,
    submission            integer NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_department ON projects (department_id, id);
CREATE INDEX projects_state ON projects (state, id);

-- every state change of a project or plan, oldest first by id
CREATE TABLE transitions (
    id         bigserial PRIMARY KEY,
    subject    text NOT NULL,          -- 'projects/42', 'plans/3'
    from_state text,
    to_state   text NOT NULL,
    action     text NOT NULL,
    actor_id   bigint,
    comment    text,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transitions_subject ON transitions (subject, id);

-- experts invited to a case about a project may read it (from approval.expert.invited)
CREATE TABLE project_experts (
    project_id bigint NOT NULL REFERENCES projects (id),
    user_id    bigint NOT NULL,
    case_id    bigint,
    invited_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_experts_user ON project_experts (user_id, project_id);

CREATE TRIGGER plans_no_delete BEFORE DELETE ON plans
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER projects_no_delete BEFORE DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER project_experts_no_delete BEFORE DELETE ON project_experts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- the public JSON of each resource
CREATE FUNCTION plan_doc(p plans) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'year', p.year, 'title', p.title, 'items', p.items,
        'state', p.state, 'version', p.version, 'created_by', p.created_by,
        'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at))
$$;
-- json, not jsonb: built for the hot read path, in the field order shown
CREATE FUNCTION project_doc(p projects) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', p.id, 'title', p.title, 'kind', p.kind,
        'summary', p.summary, 'budget_cents', p.budget_cents,
        'plan_item_code', p.plan_item_code, 'serves_external_units', p.serves_external_units,
        'state', p.state, 'department_id', p.department_id, 'applicant_id', p.applicant_id,
        'version', p.version, 'created_at', rfc3339(p.created_at),
        'updated_at', rfc3339(p.updated_at))
$$;
-- what events about a project carry: the document and which submission it is
CREATE FUNCTION project_event(p projects) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT project_doc(p)::jsonb || jsonb_build_object('submission', p.submission)
$$;
CREATE FUNCTION plan_event(p plans) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT plan_doc(p) || jsonb_build_object('submission', p.submission)
$$;
CREATE FUNCTION transition_doc(t transitions) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('from', t.from_state, 'to', t.to_state, 'action', t.action,
        'actor_id', t.actor_id, 'at', rfc3339(t.at), 'comment', t.comment)
$$;
-- a title compared for duplicates: lower case, without spaces and punctuation
CREATE FUNCTION title_key(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(lower(t), '[[:space:][:punct:]，。、；：？！（）《》“”‘’·—]+', '', 'g')
$$;
-- whether a plan item code is in an approved plan
CREATE FUNCTION plan_item_approved(code text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM plans pl, jsonb_array_elements(pl.items) i
                    WHERE pl.state = 'approved' AND i->>'code' = code)
$$;
