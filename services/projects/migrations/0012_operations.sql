-- operations of systems in operation (issue 11 F): the IT office's spot
-- checks (article 14), backups and the custody of storage media (article
-- 17). Nothing here is ever deleted; a medium's chain of custody is
-- append-only: its links can be neither changed nor removed, and concurrent
-- transfers of one medium are serialized on the medium's row
-- (media_transfer() below), so the chain never forks.

CREATE TABLE spot_checks (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id),
    checked_at timestamptz NOT NULL,
    result     text NOT NULL CHECK (result IN ('pass', 'issues_found')),
    findings   text NOT NULL DEFAULT '',
    checked_by bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (result = 'pass' OR findings <> '')
);
CREATE INDEX spot_checks_project ON spot_checks (project_id, id);
CREATE INDEX spot_checks_checked ON spot_checks (checked_at);

CREATE TABLE media (
    id           bigserial PRIMARY KEY,
    label        text NOT NULL,
    kind         text NOT NULL,
    custodian_id bigint NOT NULL,
    location     text NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    created_by   bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_custodian ON media (custodian_id, id);

-- one row per transfer, in the order recorded; from_custodian_id is the
-- custodian the medium had when the transfer was recorded (read under the
-- medium's row lock)
CREATE TABLE media_custody (
    id                bigserial PRIMARY KEY,
    media_id          bigint NOT NULL REFERENCES media (id),
    from_custodian_id bigint NOT NULL,
    to_custodian_id   bigint NOT NULL CHECK (to_custodian_id <> from_custodian_id),
    at                timestamptz NOT NULL,
    reason            text NOT NULL,
    recorded_by       bigint NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_custody_media ON media_custody (media_id, id);

CREATE TABLE backups (
    id                bigserial PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects (id),
    taken_at          timestamptz NOT NULL,
    method            text NOT NULL CHECK (method IN ('disaster_recovery', 'storage_media')),
    media_id          bigint REFERENCES media (id),
    location          text NOT NULL,
    restore_tested_at timestamptz,
    recorded_by       bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (method <> 'storage_media' OR media_id IS NOT NULL)
);
CREATE INDEX backups_project ON backups (project_id, id);

CREATE TRIGGER spot_checks_no_delete BEFORE DELETE ON spot_checks
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER media_no_delete BEFORE DELETE ON media
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER backups_no_delete BEFORE DELETE ON backups
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- the chain of custody: no UPDATE, no DELETE, no TRUNCATE, whoever asks
CREATE FUNCTION refuse_custody_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the chain of custody is append-only: its links are never changed or removed'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER media_custody_append_only BEFORE UPDATE OR DELETE ON media_custody
    FOR EACH ROW EXECUTE FUNCTION refuse_custody_change();
CREATE TRIGGER media_custody_no_truncate BEFORE TRUNCATE ON media_custody
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_custody_change();

-- the public JSON of each record
CREATE FUNCTION spot_check_doc(s spot_checks) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'project_id', s.project_id,
        'checked_at', rfc3339(s.checked_at), 'result', s.result, 'findings', s.findings,
        'checked_by', s.checked_by, 'created_at', rfc3339(s.created_at))
$$;
CREATE FUNCTION backup_doc(b backups) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', b.id, 'project_id', b.project_id,
        'taken_at', rfc3339(b.taken_at), 'method', b.method, 'media_id', b.media_id,
        'location', b.location, 'restore_tested_at', rfc3339(b.restore_tested_at),
        'recorded_by', b.recorded_by, 'created_at', rfc3339(b.created_at))
$$;
CREATE FUNCTION custody_doc(c media_custody) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('from_custodian_id', c.from_custodian_id,
        'to_custodian_id', c.to_custodian_id, 'at', rfc3339(c.at), 'reason', c.reason,
        'recorded_by', c.recorded_by, 'recorded_at', rfc3339(c.recorded_at))
$$;
-- a medium without its chain (lists, events)
CREATE FUNCTION media_doc(m media) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', m.id, 'label', m.label, 'kind', m.kind,
        'custodian_id', m.custodian_id, 'location', m.location, 'version', m.version,
        'created_by', m.created_by, 'created_at', rfc3339(m.created_at),
        'updated_at', rfc3339(m.updated_at))
$$;
-- a medium with its chain of custody, oldest link first
CREATE FUNCTION media_full_doc(m media) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT media_doc(m) || jsonb_build_object('custody',
        coalesce((SELECT jsonb_agg(custody_doc(c) ORDER BY c.id) FROM media_custody c
                   WHERE c.media_id = m.id), '[]'::jsonb))
$$;

-- One transfer of a medium, under the medium's row lock: outcome
-- 'not_found' (no such medium), 'same_custodian' (p_to holds it already;
-- custodian_id tells who), 'before_last' (p_at is earlier than the last
-- link's at), or 'ok' with the medium as it now is (doc, with its chain)
-- after the link, the update and the event itgov.media.transferred.
CREATE FUNCTION media_transfer(p_id bigint, p_to bigint, p_at timestamptz, p_reason text,
                               p_actor bigint)
    RETURNS TABLE (outcome text, custodian_id bigint, doc jsonb, version integer)
    LANGUAGE plpgsql AS $$
DECLARE
    m media;
    last_at timestamptz;
    link media_custody;
BEGIN
    SELECT * INTO m FROM media WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::jsonb, NULL::integer;
        RETURN;
    END IF;
    IF m.custodian_id = p_to THEN
        RETURN QUERY SELECT 'same_custodian'::text, m.custodian_id, NULL::jsonb, m.version;
        RETURN;
    END IF;
    SELECT max(c.at) INTO last_at FROM media_custody c WHERE c.media_id = p_id;
    IF last_at IS NOT NULL AND p_at < last_at THEN
        RETURN QUERY SELECT 'before_last'::text, m.custodian_id, NULL::jsonb, m.version;
        RETURN;
    END IF;
    INSERT INTO media_custody (media_id, from_custodian_id, to_custodian_id, at, reason,
                               recorded_by)
        VALUES (p_id, m.custodian_id, p_to, p_at, p_reason, p_actor) RETURNING * INTO link;
    UPDATE media SET custodian_id = p_to, version = media.version + 1, updated_at = now()
        WHERE id = p_id RETURNING * INTO m;
    PERFORM emit('itgov.media.transferred', 'media/' || m.id, p_actor,
                 media_doc(m) || jsonb_build_object('transfer', custody_doc(link)));
    RETURN QUERY SELECT 'ok'::text, m.custodian_id, media_full_doc(m), m.version;
END $$;
