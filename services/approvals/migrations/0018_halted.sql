-- issue 12 C: a halted project's cases take no action. A suspended
-- project's cases (about it, or one of its contracts or changes) refuse
-- invitations, opinions, reviews and decisions with SQLSTATE IGSUS (409
-- project_suspended, shared/src/db.c), except its escalation cases (the
-- secretary decides on the suspension itself); a terminated project's cases
-- refuse every action with IGTRM (409 invalid_state naming the state
-- terminated), escalation cases included. cases.c answers the same before
-- it writes, in its place of the refusal order; the triggers below hold the
-- rule for every write, whichever route makes it.

-- the project a case is about: its subject projects/{id}, or the opening
-- event's data.project_id (contracts/{cid}, changes/{cid}); NULL for plans
-- and for contract and change cases opened before this migration
ALTER TABLE cases ADD COLUMN project_id bigint;
UPDATE cases SET project_id = substring(subject FROM '^projects/([1-9][0-9]{0,17})$')::bigint
 WHERE subject LIKE 'projects/%';
CREATE INDEX cases_project ON cases (project_id) WHERE project_id IS NOT NULL;

CREATE FUNCTION case_project_of_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.project_id := coalesce(NEW.project_id,
        substring(NEW.subject FROM '^projects/([1-9][0-9]{0,17})$')::bigint);
    RETURN NEW;
END $$;
CREATE TRIGGER cases_project_of_subject BEFORE INSERT ON cases
    FOR EACH ROW EXECUTE FUNCTION case_project_of_subject();

-- the halted projects, as the projects service's events told them
-- (itgov.project.suspended / .resumed / .terminated, consumer.c): the newest
-- event's (sourceseq) state; and a resume decided here (cases.c) makes a
-- suspended project 'resumed' at once, so no action is refused after it
-- while its event is on its way (a suspension is learned from its event: a
-- case action recorded before approvals knew still applies in projects).
-- Nothing is deleted: a resumed project is 'resumed'.
CREATE TABLE project_halts (
    project_id bigint PRIMARY KEY,
    state      text NOT NULL CHECK (state IN ('suspended', 'resumed', 'terminated')),
    sourceseq  bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER project_halts_no_delete BEFORE DELETE ON project_halts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- the refusal an action on a case of kind k meets while its project is in
-- halt state st: NULL, 'IGSUS' or 'IGTRM'
CREATE FUNCTION case_halt_refusal(k text, st text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN st = 'terminated' THEN 'IGTRM'
                WHEN st = 'suspended' AND k <> 'escalation' THEN 'IGSUS' END
$$;

CREATE FUNCTION case_halt_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
    st text;
    pid bigint;
    cid bigint;
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        cid := NEW.id;
    ELSE
        cid := NEW.case_id;
    END IF;
    SELECT c.kind, h.state, c.project_id INTO k, st, pid
      FROM cases c JOIN project_halts h ON h.project_id = c.project_id WHERE c.id = cid;
    IF case_halt_refusal(k, st) = 'IGTRM' THEN
        RAISE EXCEPTION 'project % is terminated: its cases take no action', pid
            USING ERRCODE = 'IGTRM';
    ELSIF case_halt_refusal(k, st) = 'IGSUS' THEN
        RAISE EXCEPTION 'project % is suspended: its cases take no action', pid
            USING ERRCODE = 'IGSUS';
    END IF;
    RETURN NEW;
END $$;
-- the actions: a review or decision moves the case; invitations and
-- opinions are rows of their own. The deadline scan (overdue_at) and the
-- opening of cases are no action on one.
CREATE TRIGGER cases_halt_guard BEFORE UPDATE OF step, outcome, review, decision, variant
    ON cases FOR EACH ROW EXECUTE FUNCTION case_halt_guard();
CREATE TRIGGER case_experts_halt_guard BEFORE INSERT OR UPDATE ON case_experts
    FOR EACH ROW EXECUTE FUNCTION case_halt_guard();
CREATE TRIGGER opinions_halt_guard BEFORE INSERT OR UPDATE ON opinions
    FOR EACH ROW EXECUTE FUNCTION case_halt_guard();
