-- Issue 14 C: a change's implemented report may say what the configuration
-- of the system looks like after it: config_sha256, [{component, sha256}]
-- (at most 50, each component named once; changes.c validates). The audit
-- service learns it from the itgov.change.implemented event (change_event()
-- carries change_doc()) and holds the next fingerprint of that component to
-- it (audit 0023_config.sql). [] when the report declared none (or the
-- change is not implemented yet).
ALTER TABLE changes ADD COLUMN config_sha256 jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(config_sha256) = 'array' AND jsonb_array_length(config_sha256) <= 50);

CREATE OR REPLACE FUNCTION change_doc(c changes) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'project_id', c.project_id, 'level', c.level,
        'requested_level', c.requested_level, 'reclassified_at', rfc3339(c.reclassified_at),
        'title', c.title, 'requirement_plan', c.requirement_plan, 'test_plan', c.test_plan,
        'status', c.state, 'implemented_at', rfc3339(c.implemented_at),
        'test_evidence_uri', c.test_evidence_uri, 'implemented_by', c.implemented_by,
        'config_sha256', c.config_sha256,
        'version', c.version, 'created_by', c.created_by,
        'created_at', rfc3339(c.created_at), 'updated_at', rfc3339(c.updated_at))
$$;
