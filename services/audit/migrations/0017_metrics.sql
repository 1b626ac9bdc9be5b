-- Issue 12 D: usage metrics (article 23). What audit knows of a project (from
-- the project events in its own log), the keys a system in operation reports
-- with, and the daily usage samples. Nothing here is ever deleted.

-- ---- project facts -----------------------------------------------------------
-- Audit has no projects table: it knows a project from the events it stored.
-- Every project-level event (itgov.project.*, subject projects/{id}) carries
-- project_event(p) — id, department_id, state, ... — while the events of a
-- project's records (deliverables, milestones, payments, ...) share the
-- subject but carry the record's document (no state and department_id with
-- the project's id). So: the project's current department and state are
-- those of the newest event of the first kind (entries_subject (subject, seq)
-- finds it); went_live_at is the time of its itgov.project.went_live.
-- No row: audit has stored no event of that project (none exists, or its
-- creation is still on its way to the log). Part E reuses this.
CREATE FUNCTION project_fact(p_project_id bigint)
    RETURNS TABLE (project_id bigint, department_id bigint, state text,
                   went_live_at timestamptz, seq bigint)
    LANGUAGE sql STABLE AS $$
    SELECT p_project_id, (e.data->>'department_id')::bigint, e.data->>'state',
           (SELECT min(w.time) FROM entries w
             WHERE w.subject = 'projects/' || p_project_id
               AND w.type = 'itgov.project.went_live'),
           e.seq
      FROM entries e
     WHERE e.subject = 'projects/' || p_project_id
       AND e.type LIKE 'itgov.project.%'
       AND jsonb_typeof(e.data) = 'object'
       AND e.data->>'id' = p_project_id::text
       AND jsonb_typeof(e.data->'department_id') = 'number'
       AND jsonb_typeof(e.data->'state') = 'string'
     ORDER BY e.seq DESC
     LIMIT 1
$$;

-- ---- system keys -------------------------------------------------------------
-- A credential a governed system sends as Authorization: Bearer itgk_<43
-- base64url characters> (32 random bytes; shared/include/itgov/syskey.h).
-- Only the SHA-256 (hex) of the whole key as sent is kept: the key itself is
-- in the one answer that issues it and nowhere else. A key acts for its
-- project only and within its scopes. kind 'metrics': the key of POST
-- /projects/{id}/metrics-key, one live per project; issuing another revokes
-- the live one (revoked_at, replaced_by the new key). Issue 14 adds keys of
-- its own kind with other scopes ('log_digests', 'config') to this table.
CREATE TABLE system_keys (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL,
    kind        text NOT NULL DEFAULT 'metrics',
    scopes      text[] NOT NULL DEFAULT '{metrics}' CHECK (cardinality(scopes) > 0),
    key_sha256  text NOT NULL CONSTRAINT system_keys_key_sha256_key UNIQUE
                CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    issued_by   bigint NOT NULL,
    revoked_at  timestamptz,
    revoked_by  bigint,
    replaced_by bigint REFERENCES system_keys (id),
    CHECK (replaced_by IS NULL OR revoked_at IS NOT NULL)
);
CREATE UNIQUE INDEX system_keys_one_live_metrics_key ON system_keys (project_id)
    WHERE kind = 'metrics' AND revoked_at IS NULL;
CREATE INDEX system_keys_project ON system_keys (project_id, id);

CREATE TRIGGER system_keys_no_delete BEFORE DELETE ON system_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- a key's public JSON (what the events carry): never the key, never its hash
CREATE FUNCTION system_key_doc(k system_keys) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('key_id', k.id, 'project_id', k.project_id, 'kind', k.kind,
        'scopes', to_jsonb(k.scopes), 'issued_at', rfc3339(k.issued_at),
        'issued_by', k.issued_by, 'revoked_at', rfc3339(k.revoked_at),
        'replaced_by', k.replaced_by)
$$;

-- ---- usage samples -----------------------------------------------------------
-- One live sample per system (project) and day; a second one for the same
-- day replaces it: the old row stays, replaced_by pointing at the new one.
-- recorded_by: 'user:<id>' (the IT office) or 'key:<key id>' (the system).
-- The contract with part E (evaluations): these names.
CREATE TABLE usage_samples (
    id                   bigserial PRIMARY KEY,
    project_id           bigint NOT NULL,
    date                 date NOT NULL,
    active_users         integer NOT NULL CHECK (active_users >= 0),
    requests             bigint NOT NULL CHECK (requests >= 0),
    availability_percent numeric(5,2) NOT NULL
                         CHECK (availability_percent BETWEEN 0 AND 100),
    incidents            integer NOT NULL CHECK (incidents >= 0),
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    recorded_by          text NOT NULL CHECK (recorded_by ~ '^(user|key):[1-9][0-9]*$'),
    replaced_by          bigint REFERENCES usage_samples (id),
    CHECK (replaced_by IS NULL OR replaced_by <> id)
);
CREATE UNIQUE INDEX usage_samples_one_live ON usage_samples (project_id, date)
    WHERE replaced_by IS NULL;
CREATE INDEX usage_samples_project_date ON usage_samples (project_id, date, id);

CREATE TRIGGER usage_samples_no_delete BEFORE DELETE ON usage_samples
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- a sample is never altered: the only change is being replaced, once
CREATE FUNCTION usage_sample_only_replaced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.replaced_by IS NOT NULL OR NEW.replaced_by IS NULL
       OR (NEW.id, NEW.project_id, NEW.date, NEW.active_users, NEW.requests,
           NEW.availability_percent, NEW.incidents, NEW.recorded_at, NEW.recorded_by)
          IS DISTINCT FROM
          (OLD.id, OLD.project_id, OLD.date, OLD.active_users, OLD.requests,
           OLD.availability_percent, OLD.incidents, OLD.recorded_at, OLD.recorded_by) THEN
        RAISE EXCEPTION 'a usage sample is never altered, only replaced once'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER usage_samples_only_replaced BEFORE UPDATE ON usage_samples
    FOR EACH ROW EXECUTE FUNCTION usage_sample_only_replaced();

CREATE FUNCTION usage_sample_doc(s usage_samples) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'project_id', s.project_id,
        'date', to_char(s.date, 'YYYY-MM-DD'), 'active_users', s.active_users,
        'requests', s.requests, 'availability_percent', s.availability_percent,
        'incidents', s.incidents, 'recorded_at', rfc3339(s.recorded_at),
        'recorded_by', s.recorded_by, 'replaced_by', s.replaced_by)
$$;
