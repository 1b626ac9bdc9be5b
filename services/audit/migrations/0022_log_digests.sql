-- Issue 14 B: the digests of governed systems' logs, anchored in the audit
-- log (articles 16-17). A system posts, with its key (scope log_digests),
-- the SHA-256 of each rotated segment of a log and the SHA-256 of the
-- segment before it (previous_sha256, null for the first): the digests of a
-- log form a chain. Each digest is a row here and an event
-- itgov.system.log_digest.anchored, whose log entry (found by event_id) is
-- the anchor: its inclusion proof against a signed checkpoint shows the
-- segment existed, exactly so, when it was received. A digest whose
-- previous_sha256 is not the last anchored digest of its log is stored all
-- the same and raises log_chain_broken (raise_finding(), 0020) in the same
-- statement. Nothing here is ever changed or deleted.

CREATE TABLE log_digests (
    id                       bigserial PRIMARY KEY,
    project_id               bigint NOT NULL,
    log_name                 text NOT NULL CHECK (length(log_name) BETWEEN 1 AND 200),
    segment                  text NOT NULL CHECK (length(segment) BETWEEN 1 AND 200),
    first_entry_at           timestamptz NOT NULL,
    last_entry_at            timestamptz NOT NULL,
    entries                  bigint NOT NULL CHECK (entries >= 0),
    sha256                   text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    previous_sha256          text CHECK (previous_sha256 ~ '^[0-9a-f]{64}$'),
    -- the last anchored digest of the log when this one arrived (null: none)
    expected_previous_sha256 text CHECK (expected_previous_sha256 ~ '^[0-9a-f]{64}$'),
    key_id                   bigint NOT NULL,
    received_at              timestamptz NOT NULL DEFAULT now(),
    event_id                 uuid NOT NULL CONSTRAINT log_digests_event_id_key UNIQUE,
    finding_id               bigint REFERENCES system_findings (id),
    CHECK (first_entry_at <= last_entry_at)
);
-- one digest per log and content: posting it again answers the same record
CREATE UNIQUE INDEX log_digests_one ON log_digests (project_id, log_name, sha256);
CREATE INDEX log_digests_log ON log_digests (project_id, log_name, id);

CREATE TRIGGER log_digests_no_delete BEFORE DELETE ON log_digests
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION log_digest_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a log digest is never altered' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER log_digests_no_update BEFORE UPDATE ON log_digests
    FOR EACH ROW EXECUTE FUNCTION log_digest_refuse_update();

-- the data of its event: what the system sent, and how it fits the chain
CREATE FUNCTION log_digest_event_doc(d log_digests) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', d.id, 'project_id', d.project_id, 'log_name', d.log_name,
        'segment', d.segment, 'first_entry_at', rfc3339(d.first_entry_at),
        'last_entry_at', rfc3339(d.last_entry_at), 'entries', d.entries, 'sha256', d.sha256,
        'previous_sha256', d.previous_sha256,
        'expected_previous_sha256', d.expected_previous_sha256,
        'chain_broken', d.previous_sha256 IS DISTINCT FROM d.expected_previous_sha256,
        'key_id', d.key_id, 'received_at', rfc3339(d.received_at))
$$;

-- the record as the API answers it (seq: the entry holding its event, once
-- stored; finding_id: the log_chain_broken it raised, if any)
CREATE FUNCTION log_digest_doc(d log_digests) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT log_digest_event_doc(d) || jsonb_build_object('finding_id', d.finding_id,
        'seq', (SELECT e.seq FROM entries e WHERE e.event_id = d.event_id))
$$;

-- Anchors a digest: the one statement of POST /systems/{id}/log-digests.
-- Serialized per log (a transaction advisory lock on project and log name;
-- each statement below then sees what the previous holder committed), so
-- two digests posted at once cannot both take the same "last". The same
-- digest again (project, log, sha256) answers the existing record
-- (created false) and changes nothing.
CREATE FUNCTION log_digest_add(p_project_id bigint, p_key_id bigint, p_log_name text,
                               p_segment text, p_first timestamptz, p_last timestamptz,
                               p_entries bigint, p_sha256 text, p_previous text)
    RETURNS TABLE (doc jsonb, event_id uuid, created boolean) LANGUAGE plpgsql AS $$
DECLARE
    d log_digests;
    v_outbox bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(
        'log_digests/' || p_project_id || '/' || p_log_name, 0));
    SELECT * INTO d FROM log_digests l
     WHERE l.project_id = p_project_id AND l.log_name = p_log_name AND l.sha256 = p_sha256;
    IF FOUND THEN
        RETURN QUERY SELECT log_digest_doc(d), d.event_id, false;
        RETURN;
    END IF;
    d.id := nextval(pg_get_serial_sequence('log_digests', 'id'));
    d.project_id := p_project_id;
    d.log_name := p_log_name;
    d.segment := p_segment;
    d.first_entry_at := p_first;
    d.last_entry_at := p_last;
    d.entries := p_entries;
    d.sha256 := p_sha256;
    d.previous_sha256 := p_previous;
    d.key_id := p_key_id;
    d.received_at := now();
    SELECT l.sha256 INTO d.expected_previous_sha256 FROM log_digests l
     WHERE l.project_id = p_project_id AND l.log_name = p_log_name
     ORDER BY l.id DESC LIMIT 1;
    v_outbox := emit('itgov.system.log_digest.anchored', 'projects/' || p_project_id, NULL,
                     log_digest_event_doc(d));
    SELECT (o.event->>'id')::uuid INTO d.event_id FROM outbox o WHERE o.id = v_outbox;
    IF d.previous_sha256 IS DISTINCT FROM d.expected_previous_sha256 THEN
        d.finding_id := raise_finding(p_project_id, 'log_chain_broken',
            jsonb_build_object('log_name', p_log_name, 'segment', p_segment,
                               'digest_id', d.id, 'sha256', p_sha256,
                               'expected_previous', d.expected_previous_sha256,
                               'got_previous', p_previous),
            d.event_id);
    END IF;
    INSERT INTO log_digests SELECT d.*;
    RETURN QUERY SELECT log_digest_doc(d), d.event_id, true;
END $$;
