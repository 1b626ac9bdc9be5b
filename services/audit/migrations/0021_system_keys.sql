-- Issue 14 A: the keys of the systems under watch, the findings' resolution,
-- the silence rule. The keys are rows of system_keys (0017) of kind 'system':
-- many live per project, each with its own scopes (metrics, log_digests,
-- config), revoked one by one (revoked_at, revoked_by), never replaced and
-- never deleted. The metrics keys (kind 'metrics', issue 12) are unchanged.

ALTER TABLE system_keys ADD CONSTRAINT system_keys_kind CHECK (kind IN ('metrics', 'system'));
ALTER TABLE system_keys ADD CONSTRAINT system_keys_scopes_known
    CHECK (scopes <@ ARRAY['metrics', 'log_digests', 'config']::text[]);

-- a key's record as the API answers it and the events carry it: never the
-- key, never its hash
CREATE FUNCTION system_key_record(k system_keys) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('key_id', k.id, 'project_id', k.project_id, 'kind', k.kind,
        'scopes', to_jsonb(k.scopes), 'issued_at', rfc3339(k.issued_at),
        'issued_by', k.issued_by, 'revoked_at', rfc3339(k.revoked_at),
        'revoked_by', k.revoked_by, 'replaced_by', k.replaced_by)
$$;

-- Silence (log_silent): at most one open finding of that kind per project,
-- whatever runs the scan.
CREATE UNIQUE INDEX system_findings_one_open_silence ON system_findings (project_id)
    WHERE kind = 'log_silent' AND status = 'open';

-- The projects that anchored no log digest for p_threshold: a live key with
-- the scope log_digests, no digest (itgov.system.log_digest.anchored in the
-- log) since the later of the last digest, the newest such key's issue and
-- the resolution of the last log_silent finding, no open log_silent finding,
-- the project not terminated. Each gets one finding with its event (actor
-- null: the rule raised it); its evidence is the last digest's event, if any.
-- Returns the findings raised.
CREATE FUNCTION raise_silence(p_threshold interval) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH k AS (
        SELECT project_id, max(issued_at) AS issued_at FROM system_keys
         WHERE revoked_at IS NULL AND 'log_digests' = ANY (scopes)
         GROUP BY project_id),
    s AS (
        SELECT k.project_id, k.issued_at, d.time AS last_digest_at, d.event_id AS last_event,
               (SELECT max(f.resolved_at) FROM system_findings f
                 WHERE f.project_id = k.project_id AND f.kind = 'log_silent') AS resolved_at
          FROM k
          LEFT JOIN LATERAL (
              SELECT e.time, e.event_id FROM entries e
               WHERE e.subject = 'projects/' || k.project_id
                 AND e.type = 'itgov.system.log_digest.anchored'
               ORDER BY e.seq DESC LIMIT 1) d ON true
         WHERE NOT EXISTS (SELECT 1 FROM system_findings f
                            WHERE f.project_id = k.project_id AND f.kind = 'log_silent'
                              AND f.status = 'open')),
    due AS MATERIALIZED (
        SELECT * FROM (SELECT *, greatest(issued_at, last_digest_at, resolved_at) AS since FROM s) x
         WHERE since < now() - p_threshold)
    SELECT raise_finding(project_id, 'log_silent',
               jsonb_build_object('silent_since', rfc3339(since),
                   'last_digest_at', rfc3339(last_digest_at),
                   'threshold_hours', round(extract(epoch FROM p_threshold) / 3600.0, 6)),
               last_event)
      FROM due
     WHERE coalesce((SELECT state FROM project_fact(due.project_id)), '') <> 'terminated'
     ORDER BY project_id
$$;
