-- issue 12 C: a halted project refuses every write on it or its records,
-- whichever route asks. A suspended project (article 22) refuses them with
-- SQLSTATE IGSUS (409 project_suspended, shared/src/db.c), except the
-- answers to the IT office's supervision: answering an information request
-- and responding to / verifying a rectification (their UPDATEs), and the
-- IT office's request to resume it (resume_requests); a
-- terminated one refuses every write with IGTRM (409 invalid_state naming
-- the state terminated). One rule for every route, held here, so a new
-- route cannot forget it: each table with a project_id gets
-- project_halt_guard() (tests/blackbox/test_suspension.py checks that every
-- such table has it), and the projects row itself project_self_guard().
--
-- What the system does by itself is no action by someone and still
-- applies: the consumer applying an approvals decision recorded before the
-- suspension (consumer.c), and the deadline scans. Such a statement calls
-- system_write() (a transaction-local setting, gone at its commit) before
-- it writes: put it in the WHERE clause or a CTE the write reads, so it is
-- evaluated before any row is written.
--
-- The mirrors of approvals' facts (approval_cases: the case documents kept
-- for the dossier; project_experts: who was invited) are written by the
-- consumer alone and never refused. A medium (media, media_custody) has no
-- project: a transfer of one holding a backup of a halted project is
-- refused like a write on that project's backups.

CREATE FUNCTION system_write() RETURNS boolean LANGUAGE sql VOLATILE AS $$
    SELECT set_config('itgov.system_write', 'on', true) = 'on'
$$;

-- the refusal a write on a project in state st meets: NULL, 'IGSUS' or 'IGTRM'
CREATE FUNCTION project_halt_refusal(st text, answers_allowed boolean) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN st = 'terminated' THEN 'IGTRM'
                WHEN st = 'suspended' AND NOT answers_allowed THEN 'IGSUS' END
$$;

CREATE FUNCTION project_halt_raise(code text, pid bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF code = 'IGTRM' THEN
        RAISE EXCEPTION 'project % is terminated: nothing of it changes any more', pid
            USING ERRCODE = 'IGTRM';
    ELSIF code = 'IGSUS' THEN
        RAISE EXCEPTION 'project % is suspended: nothing of it changes until it is resumed', pid
            USING ERRCODE = 'IGSUS';
    END IF;
END $$;

-- A record of a project: every INSERT and UPDATE refused while the project
-- is halted. TG_ARGV[0] says what a suspended project still takes:
-- 'records' nothing; 'answers' (information requests, rectifications) the
-- answers, responses and verifications (UPDATEs), not new ones; 'resume'
-- (resume_requests) everything (the way out of the suspension). A
-- terminated project takes nothing.
CREATE FUNCTION project_halt_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    IF NEW.project_id IS NULL OR current_setting('itgov.system_write', true) = 'on' THEN
        RETURN NEW;
    END IF;
    SELECT p.state INTO st FROM projects p WHERE p.id = NEW.project_id;
    PERFORM project_halt_raise(project_halt_refusal(st, TG_ARGV[0] = 'resume'
                                   OR (TG_ARGV[0] = 'answers' AND TG_OP = 'UPDATE')),
                               NEW.project_id);
    RETURN NEW;
END $$;

-- a rectification's responses and verifications (rectification_actions,
-- of no project_id): as an answer to the rectification's project
CREATE FUNCTION rectification_action_halt_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid bigint;
    st text;
BEGIN
    IF current_setting('itgov.system_write', true) = 'on' THEN
        RETURN NEW;
    END IF;
    SELECT p.id, p.state INTO pid, st FROM rectifications x JOIN projects p ON p.id = x.project_id
     WHERE x.id = NEW.rectification_id;
    PERFORM project_halt_raise(project_halt_refusal(st, true), pid);
    RETURN NEW;
END $$;
CREATE TRIGGER rectification_actions_halt_guard BEFORE INSERT ON rectification_actions
    FOR EACH ROW EXECUTE FUNCTION rectification_action_halt_guard();

-- The project itself: a terminated one never changes; a suspended one
-- changes only its state (the consumer applying a resume or a termination)
-- and its bookkeeping (version, submission, updated_at: a resume request
-- opening its case).
CREATE FUNCTION project_self_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('itgov.system_write', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF OLD.state = 'terminated' THEN
        PERFORM project_halt_raise('IGTRM', OLD.id);
    ELSIF OLD.state = 'suspended' AND NEW.state = 'suspended'
          AND (to_jsonb(NEW) - ARRAY['version', 'submission', 'updated_at'])
              IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['version', 'submission', 'updated_at']) THEN
        PERFORM project_halt_raise('IGSUS', OLD.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER projects_halt_guard BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION project_self_guard();

-- A medium holding a backup of a halted project: no transfer (terminated
-- first, then suspended).
CREATE FUNCTION media_halt_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mid bigint;
    pid bigint;
    st text;
BEGIN
    IF current_setting('itgov.system_write', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'media' THEN
        mid := NEW.id;
    ELSE
        mid := NEW.media_id;
    END IF;
    SELECT p.id, p.state INTO pid, st FROM backups b JOIN projects p ON p.id = b.project_id
     WHERE b.media_id = mid AND p.state IN ('suspended', 'terminated')
     ORDER BY p.state = 'terminated' DESC, p.id LIMIT 1;
    PERFORM project_halt_raise(project_halt_refusal(st, false), pid);
    RETURN NEW;
END $$;
CREATE TRIGGER media_halt_guard BEFORE UPDATE ON media
    FOR EACH ROW EXECUTE FUNCTION media_halt_guard();
CREATE TRIGGER media_custody_halt_guard BEFORE INSERT ON media_custody
    FOR EACH ROW EXECUTE FUNCTION media_halt_guard();

-- Every table with a project_id (every migration before this one: the
-- delivery and operations records, information requests, rectifications,
-- shared results, resume requests), but the mirrors of approvals' facts. A
-- later migration adding such a table attaches the guard itself (the test
-- names a table without it).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.table_name::text AS name
               FROM information_schema.columns c
               JOIN information_schema.tables b
                 ON b.table_schema = c.table_schema AND b.table_name = c.table_name
              WHERE c.table_schema = current_schema() AND c.column_name = 'project_id'
                AND b.table_type = 'BASE TABLE'
                AND c.table_name NOT IN ('approval_cases', 'project_experts')
              ORDER BY 1
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION project_halt_guard(%L)', t.name || '_halt_guard', t.name,
                       CASE WHEN t.name IN ('info_requests', 'rectifications') THEN 'answers'
                            WHEN t.name = 'resume_requests' THEN 'resume'
                            ELSE 'records' END);
    END LOOP;
END $$;
