-- issue 11 G: changes to a system in operation (article 15). A change is
-- submitted at a level (general or major); the approvals case `change`
-- (opened by itgov.change.submitted, its level the case's variant) decides
-- it: general changes by the IT office's review, major ones by a meeting
-- after the review. The consumer moves the change by the case's events
-- (change_fsm in project_fsm.c): pending → approved (general, review) |
-- awaiting_decision (major, review passed, or reclassified major by the
-- review) → approved | rejected (meeting); pending → rejected (review);
-- approved → implemented (the department reports it). Nothing is deleted.
CREATE TABLE changes (
    id                bigserial PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects (id),
    level             text NOT NULL CHECK (level IN ('general', 'major')),
    requested_level   text NOT NULL CHECK (requested_level IN ('general', 'major')),
    title             text NOT NULL,
    requirement_plan  text NOT NULL,
    test_plan         text NOT NULL,
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'awaiting_decision', 'approved', 'rejected',
                                       'implemented')),
    submission        integer NOT NULL DEFAULT 1, -- matches the approvals case (consumer.c)
    reclassified_at   timestamptz,                -- when the review made a general change major
    implemented_at    timestamptz,
    test_evidence_uri text,
    implemented_by    bigint,
    version           integer NOT NULL DEFAULT 1,
    created_by        bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- only a major change waits for a meeting; an implemented one says when and with what proof
    CHECK (state <> 'awaiting_decision' OR level = 'major'),
    CHECK (state <> 'implemented' OR (implemented_at IS NOT NULL AND test_evidence_uri IS NOT NULL))
);
CREATE INDEX changes_project ON changes (project_id, id);

CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- A change goes to a meeting only when it is major: a general change the IT
-- office's review sends there (outcome reclassify_major, consumer.c) becomes
-- major, and the time of that is kept.
CREATE FUNCTION change_reclassify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'awaiting_decision' AND OLD.state = 'pending' AND NEW.level = 'general' THEN
        NEW.level := 'major';
        NEW.reclassified_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER changes_reclassify BEFORE UPDATE OF state ON changes
    FOR EACH ROW EXECUTE FUNCTION change_reclassify();

CREATE FUNCTION change_doc(c changes) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'project_id', c.project_id, 'level', c.level,
        'requested_level', c.requested_level, 'reclassified_at', rfc3339(c.reclassified_at),
        'title', c.title, 'requirement_plan', c.requirement_plan, 'test_plan', c.test_plan,
        'status', c.state, 'implemented_at', rfc3339(c.implemented_at),
        'test_evidence_uri', c.test_evidence_uri, 'implemented_by', c.implemented_by,
        'version', c.version, 'created_by', c.created_by,
        'created_at', rfc3339(c.created_at), 'updated_at', rfc3339(c.updated_at))
$$;
-- what events about a change carry: the document, its project's department
-- (the approvals case is that department's) and the submission
CREATE FUNCTION change_event(c changes) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT change_doc(c) || jsonb_build_object('submission', c.submission,
        'department_id', (SELECT p.department_id FROM projects p WHERE p.id = c.project_id))
$$;
