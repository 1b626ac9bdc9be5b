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
