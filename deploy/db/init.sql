-- One database, one schema and one login role per service (architecture,
-- invariant 1). Run by a PostgreSQL superuser, connected to the itgov
-- database, with the psql variable roles holding the services (deploy/services,
-- space-separated); the caller appends, per role, the statement setting its
-- password from a psql variable (a password never goes through format()):
--   { cat deploy/db/init.sql; echo "ALTER ROLE \"accounts\" PASSWORD :'accounts_pw';"; ...; } |
--     psql -v ON_ERROR_STOP=1 -v roles='accounts projects ...' -v accounts_pw=... -f -
-- (deploy/local.sh and deploy/docker/db-init/apply.sh do). Idempotent:
-- running it again only resets the passwords.
\set ON_ERROR_STOP on
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(string_to_array(:'roles', ' ')) r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', r, r),
       format('ALTER ROLE %I SET search_path = %I', r, r),
       format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', r)
  FROM unnest(string_to_array(:'roles', ' ')) r \gexec

-- The audit log (architecture, invariant 3; mission, article 16). Its tables
-- belong to audit_owner, a role nobody logs in as and nobody is a member of,
-- and so does the schema: the audit role may create its own tables there
-- (outbox, cursors, subscriptions) but can neither drop, alter nor disable
-- the triggers of the log; it is granted INSERT and SELECT on it, nothing
-- else, and the triggers refuse UPDATE, DELETE and TRUNCATE even to the owner.
SELECT 'CREATE ROLE audit_owner NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_owner') \gexec
ALTER SCHEMA audit OWNER TO audit_owner;
GRANT USAGE, CREATE ON SCHEMA audit TO audit;

CREATE TABLE IF NOT EXISTS audit.entries (
    seq        bigint PRIMARY KEY,
    event_id   uuid NOT NULL CONSTRAINT entries_event_id_key UNIQUE,
    type       text NOT NULL,
    source     text NOT NULL,
    subject    text,
    actor_id   bigint,
    time       timestamptz NOT NULL,
    data       jsonb,
    cloudevent text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entries_seq_positive CHECK (seq > 0)
);
CREATE INDEX IF NOT EXISTS entries_subject ON audit.entries (subject, seq);
CREATE INDEX IF NOT EXISTS entries_actor ON audit.entries (actor_id, seq);
CREATE INDEX IF NOT EXISTS entries_type ON audit.entries (type text_pattern_ops);
CREATE INDEX IF NOT EXISTS entries_time ON audit.entries (time);

-- signed tree heads the service made (size, root, time, key, signature)
CREATE TABLE IF NOT EXISTS audit.checkpoints (
    size      bigint PRIMARY KEY,
    root_hash text NOT NULL,
    time      text NOT NULL,
    key_id    text NOT NULL,
    signature text NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
SELECT format('CREATE OR REPLACE TRIGGER %I BEFORE UPDATE OR DELETE ON audit.%I '
              'FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()', t || '_no_change', t),
       format('CREATE OR REPLACE TRIGGER %I BEFORE TRUNCATE ON audit.%I '
              'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()', t || '_no_truncate', t),
       format('ALTER TABLE audit.%I OWNER TO audit_owner', t),
       format('REVOKE ALL ON audit.%I FROM PUBLIC, audit', t),
       format('GRANT SELECT, INSERT ON audit.%I TO audit', t)
  FROM unnest(ARRAY['entries', 'checkpoints']) t \gexec
ALTER FUNCTION audit.refuse_change() OWNER TO audit_owner;
