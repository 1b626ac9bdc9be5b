-- Issue 14 (foundation): the findings about the systems itgov governs
-- (articles 15-17). A finding is raised by the rule that sees it — a log
-- digest whose previous_sha256 is not the last anchored digest of its log
-- (0021, log_chain_broken), a configuration fingerprint no implemented change
-- explains (0022, unauthorized_config_change / config_differs_from_change),
-- a system with a log_digests key that anchors nothing for
-- ITGOV_ANCHOR_SILENCE_H hours (log_silent) — always through raise_finding(),
-- in the same statement as what it is about, with its event. Its evidence is
-- the event of that digest or fingerprint (evidence_event): the log entry
-- holding it (evidence_seq) is found by the event's id once ingest stored it.
-- Resolving keeps the row (status, resolution, resolved_at, resolved_by, and
-- optionally the rectification it opened, article 22). Nothing is deleted.

CREATE TABLE system_findings (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('log_chain_broken', 'unauthorized_config_change',
                                                   'config_differs_from_change', 'log_silent')),
    detail           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    raised_at        timestamptz NOT NULL DEFAULT now(),
    evidence_event   uuid,          -- the event (of entries.event_id) the finding is about
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution       text,
    rectification_id bigint,
    resolved_at      timestamptz,
    resolved_by      bigint,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL))
);
CREATE INDEX system_findings_project ON system_findings (project_id, id);
CREATE INDEX system_findings_open ON system_findings (kind, project_id) WHERE status = 'open';
CREATE TRIGGER system_findings_no_delete BEFORE DELETE ON system_findings
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- a finding's public JSON (the API's SystemFinding and the events' data)
CREATE FUNCTION system_finding_doc(f system_findings) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', f.id, 'project_id', f.project_id, 'kind', f.kind,
        'detail', f.detail, 'raised_at', rfc3339(f.raised_at),
        'evidence_seq', (SELECT e.seq FROM entries e WHERE e.event_id = f.evidence_event),
        'status', f.status, 'resolution', f.resolution,
        'rectification_id', f.rectification_id, 'resolved_at', rfc3339(f.resolved_at),
        'resolved_by', f.resolved_by)
$$;

-- Raises a finding with its event (itgov.system.finding.raised, subject
-- projects/{id}, actor null: a rule raised it, not a person); its id.
CREATE FUNCTION raise_finding(p_project_id bigint, p_kind text, p_detail jsonb,
                              p_evidence uuid) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE f system_findings;
BEGIN
    INSERT INTO system_findings (project_id, kind, detail, evidence_event)
    VALUES (p_project_id, p_kind, coalesce(p_detail, '{}'), p_evidence) RETURNING * INTO f;
    PERFORM emit('itgov.system.finding.raised', 'projects/' || p_project_id, NULL,
                 system_finding_doc(f));
    RETURN f.id;
END $$;
