-- contracts, deliverables and the acceptance request (articles 8-12): the
-- public JSON of a deliverable, the counter that gives each kind of a
-- project its next version under concurrent adds, and the acceptance gate
-- (what is still missing before a project may ask for acceptance).

-- the last version given per project and kind: INSERT ... ON CONFLICT DO
-- UPDATE on it hands out n+1 to exactly one of any concurrent adds
CREATE TABLE deliverable_versions (
    project_id   bigint NOT NULL REFERENCES projects (id),
    kind         text NOT NULL,
    last_version integer NOT NULL,
    PRIMARY KEY (project_id, kind)
);
CREATE TRIGGER deliverable_versions_no_delete BEFORE DELETE ON deliverable_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE INDEX deliverables_project ON deliverables (project_id, id);
CREATE INDEX contracts_project_state ON contracts (project_id, state);

-- current: no later version of its kind exists
CREATE FUNCTION deliverable_doc(d deliverables) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', d.id, 'project_id', d.project_id, 'kind', d.kind,
        'version', d.version, 'title', d.title, 'uri', d.uri, 'sha256', d.sha256,
        'author_id', d.author_id, 'created_at', rfc3339(d.created_at),
        'current', NOT EXISTS (SELECT 1 FROM deliverables l WHERE l.project_id = d.project_id
                                  AND l.kind = d.kind AND l.version > d.version))
$$;

-- what a project still lacks before it may ask for acceptance (article 12),
-- in a fixed order: each deliverable kind without any version (in the
-- order of article 11), 'approved_contract' when no contract of it is
-- approved, then each incomplete milestone as 'milestone:<id>' by id
CREATE FUNCTION acceptance_missing(pid bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(m.item ORDER BY m.ord, m.sub), '[]'::jsonb) FROM (
        SELECT k.ord, 0::bigint AS sub, k.kind AS item
          FROM unnest(ARRAY['install_manual', 'user_manual', 'admin_manual', 'developer_manual',
                            'test_report', 'training_record']) WITH ORDINALITY AS k(kind, ord)
         WHERE NOT EXISTS (SELECT 1 FROM deliverables d
                            WHERE d.project_id = pid AND d.kind = k.kind)
        UNION ALL
        SELECT 100, 0, 'approved_contract'
         WHERE NOT EXISTS (SELECT 1 FROM contracts c
                            WHERE c.project_id = pid AND c.state = 'approved')
        UNION ALL
        SELECT 200, ms.id, 'milestone:' || ms.id
          FROM milestones ms WHERE ms.project_id = pid AND ms.completed_at IS NULL) m
$$;

-- the acceptance request (acceptance.c) as one statement: lock the project,
-- then (a fresh snapshot, after any plan revision or deliverable that held
-- the lock) check the state and the gate, and move it only when nothing is
-- missing. Returns the project (o_doc, o_version) when it moved; else its
-- state (o_state) and what is missing (o_missing, a JSON array).
CREATE FUNCTION acceptance_request(p_id bigint, p_actor bigint, p_from text[], p_to text[],
                                   p_event text, OUT o_doc text, OUT o_version integer,
                                   OUT o_missing text, OUT o_state text)
    LANGUAGE plpgsql AS $$
DECLARE
    p projects;
    miss jsonb;
BEGIN
    SELECT pr.state INTO o_state FROM projects pr WHERE pr.id = p_id FOR UPDATE;
    IF o_state IS NULL OR NOT o_state = ANY (p_from) THEN
        RETURN;
    END IF;
    miss := acceptance_missing(p_id);
    o_missing := miss::text;
    IF jsonb_array_length(miss) > 0 THEN
        RETURN;
    END IF;
    UPDATE projects pr SET state = t.t, version = pr.version + 1,
           submission = pr.submission + 1, updated_at = now()
      FROM unnest(p_from, p_to) AS t(f, t)
     WHERE pr.id = p_id AND pr.state = t.f RETURNING pr.* INTO p;
    INSERT INTO transitions (subject, from_state, to_state, action, actor_id)
    VALUES ('projects/' || p_id, o_state, p.state, 'request_acceptance', p_actor);
    PERFORM emit(p_event, 'projects/' || p_id, p_actor, project_event(p));
    o_doc := project_doc(p)::text;
    o_version := p.version;
    o_state := p.state;
END $$;
