-- Issue 14 C: the fingerprints of a governed system's configuration (article
-- 16: no change of its configuration without authority). The system posts,
-- with a key holding the scope `config`, the SHA-256 of one component of its
-- configuration as it observed it (config_fingerprints.c); the record is kept
-- here, its event (itgov.system.config.observed, subject projects/{id}, actor
-- null) anchors it in the log, and the rule below judges it against the
-- previous fingerprint of that component and the changes (article 15) the
-- project reported implemented in between — which audit knows from its own
-- log: the entries of type itgov.change.implemented (source /itgov/projects,
-- subject changes/{cid}, data the change's document: project_id and, issue 14
-- C, config_sha256 [{component, sha256}] as the report declared it).
--
-- The rule (record_config_fingerprint(), one statement with the record, its
-- event and the finding it raises):
--   * the first fingerprint of a component is its baseline: no finding;
--   * the changes considered are those reported implemented (their event's
--     time) after the previous fingerprint was received;
--   * if one of them declared config_sha256 for this component, the new
--     sha256 must be the last such declaration, else the finding is
--     config_differs_from_change;
--   * if none of them declared it: when no change at all was implemented in
--     between and the sha256 differs from the previous one, the finding is
--     unauthorized_config_change; an implemented change explains it.
-- Detail: component, previous_sha256, sha256, change_ids (those considered),
-- fingerprint_id, previous_fingerprint_id, and for config_differs_from_change
-- declared_sha256 and declared_by_change_id. Fingerprints of one system's
-- component are taken one at a time (an advisory lock on project and
-- component, held to commit), so two at once never judge against the same
-- previous one. Nothing here is ever changed or deleted.

CREATE TABLE config_fingerprints (
    id                      bigserial PRIMARY KEY,
    project_id              bigint NOT NULL,
    component               text NOT NULL CHECK (char_length(component) BETWEEN 1 AND 200),
    sha256                  text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    observed_at             timestamptz NOT NULL,
    received_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    key_id                  bigint NOT NULL,
    previous_id             bigint REFERENCES config_fingerprints (id),
    previous_sha256         text CHECK (previous_sha256 ~ '^[0-9a-f]{64}$'),
    event_id                uuid NOT NULL, -- its itgov.system.config.observed (entries.event_id)
    finding_id              bigint REFERENCES system_findings (id),
    CHECK ((previous_id IS NULL) = (previous_sha256 IS NULL))
);
CREATE INDEX config_fingerprints_component ON config_fingerprints (project_id, component, id);

CREATE FUNCTION config_fingerprint_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a configuration fingerprint is never changed or removed'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER config_fingerprints_no_change BEFORE UPDATE OR DELETE ON config_fingerprints
    FOR EACH ROW EXECUTE FUNCTION config_fingerprint_refuse_change();
CREATE TRIGGER config_fingerprints_no_truncate BEFORE TRUNCATE ON config_fingerprints
    FOR EACH STATEMENT EXECUTE FUNCTION config_fingerprint_refuse_change();

-- a fingerprint's public JSON (the API's ConfigFingerprint and the event's data)
CREATE FUNCTION config_fingerprint_doc(f config_fingerprints) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', f.id, 'project_id', f.project_id, 'component', f.component,
        'sha256', f.sha256, 'observed_at', rfc3339(f.observed_at),
        'received_at', rfc3339(f.received_at), 'key_id', f.key_id,
        'previous_id', f.previous_id, 'previous_sha256', f.previous_sha256)
$$;

-- Records a fingerprint: the rule above, the record, its event and the
-- finding raised (raise_finding(), evidence: the fingerprint's event). Answers
-- the record's document with `finding`: the finding's document or null.
CREATE FUNCTION record_config_fingerprint(p_project_id bigint, p_component text, p_sha256 text,
                                          p_observed_at timestamptz, p_key_id bigint)
    RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    f config_fingerprints;
    prev config_fingerprints;
    v_changes jsonb := '[]';
    v_decl_change bigint;
    v_decl_sha text;
    v_kind text;
    v_detail jsonb;
    v_outbox bigint;
    v_event uuid;
BEGIN
    -- one fingerprint of this component of this system at a time: each
    -- statement below sees what the previous holder committed
    PERFORM pg_advisory_xact_lock(hashtextextended(
        'config_fingerprints:' || p_project_id || ':' || p_component, 0));
    SELECT * INTO prev FROM config_fingerprints c
     WHERE c.project_id = p_project_id AND c.component = p_component
     ORDER BY c.id DESC LIMIT 1;

    f.id := nextval(pg_get_serial_sequence('config_fingerprints', 'id'));
    f.project_id := p_project_id;
    f.component := p_component;
    f.sha256 := p_sha256;
    f.observed_at := p_observed_at;
    f.received_at := clock_timestamp();
    f.key_id := p_key_id;
    f.previous_id := prev.id;
    f.previous_sha256 := prev.sha256;

    IF prev.id IS NOT NULL THEN
        -- the changes of the project reported implemented since the previous one
        SELECT coalesce(jsonb_agg((e.data->>'id')::bigint ORDER BY e.time, e.seq), '[]')
          INTO v_changes
          FROM entries e
         WHERE e.type = 'itgov.change.implemented' AND e.source = '/itgov/projects'
           AND jsonb_typeof(e.data) = 'object'
           AND e.data->>'project_id' = p_project_id::text
           AND e.time > prev.received_at;
        -- the last of them that declared this component
        SELECT (e.data->>'id')::bigint, d->>'sha256' INTO v_decl_change, v_decl_sha
          FROM entries e,
               jsonb_array_elements(CASE WHEN jsonb_typeof(e.data->'config_sha256') = 'array'
                                         THEN e.data->'config_sha256' ELSE '[]' END) d
         WHERE e.type = 'itgov.change.implemented' AND e.source = '/itgov/projects'
           AND jsonb_typeof(e.data) = 'object'
           AND e.data->>'project_id' = p_project_id::text
           AND e.time > prev.received_at
           AND jsonb_typeof(d) = 'object' AND d->>'component' = p_component
         ORDER BY e.time DESC, e.seq DESC
         LIMIT 1;
        IF v_decl_change IS NOT NULL THEN
            IF v_decl_sha IS DISTINCT FROM p_sha256 THEN
                v_kind := 'config_differs_from_change';
            END IF;
        ELSIF jsonb_array_length(v_changes) = 0 AND prev.sha256 <> p_sha256 THEN
            v_kind := 'unauthorized_config_change';
        END IF;
    END IF;

    v_outbox := emit('itgov.system.config.observed', 'projects/' || p_project_id, NULL,
                     config_fingerprint_doc(f));
    SELECT (o.event->>'id')::uuid INTO v_event FROM outbox o WHERE o.id = v_outbox;
    f.event_id := v_event;

    IF v_kind IS NOT NULL THEN
        v_detail := jsonb_build_object('component', p_component,
            'previous_sha256', prev.sha256, 'sha256', p_sha256, 'change_ids', v_changes,
            'fingerprint_id', f.id, 'previous_fingerprint_id', prev.id);
        IF v_kind = 'config_differs_from_change' THEN
            v_detail := v_detail || jsonb_build_object('declared_sha256', v_decl_sha,
                                                       'declared_by_change_id', v_decl_change);
        END IF;
        f.finding_id := raise_finding(p_project_id, v_kind, v_detail, v_event);
    END IF;

    INSERT INTO config_fingerprints VALUES (f.*);
    RETURN config_fingerprint_doc(f) || jsonb_build_object('finding',
        (SELECT system_finding_doc(s) FROM system_findings s WHERE s.id = f.finding_id));
END $$;
