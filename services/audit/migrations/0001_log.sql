-- audit: the service's own tables. The log itself (entries) and the signed
-- heads (checkpoints) are NOT created here: deploy/db/init.sql, run by the
-- PostgreSQL superuser, creates them owned by the NOLOGIN role audit_owner
-- (which also owns this schema), grants this role INSERT and SELECT only, and
-- adds triggers refusing UPDATE, DELETE and TRUNCATE even to the owner. So
-- the role this service runs as can never rewrite, drop or truncate the log,
-- nor disable its triggers (architecture, invariant 3; mission, article 16).
DO $$
BEGIN
    IF to_regclass('entries') IS NULL OR to_regclass('checkpoints') IS NULL THEN
        RAISE EXCEPTION 'audit.entries or audit.checkpoints is missing'
            USING HINT = 'run deploy/db/init.sql as the PostgreSQL superuser';
    END IF;
    IF has_table_privilege('entries', 'UPDATE') OR has_table_privilege('entries', 'DELETE')
       OR has_table_privilege('entries', 'TRUNCATE')
       OR (SELECT tableowner = current_user FROM pg_tables
            WHERE schemaname = 'audit' AND tablename = 'entries') THEN
        RAISE EXCEPTION 'the audit role may change audit.entries; refusing to run'
            USING HINT = 'run deploy/db/init.sql as the PostgreSQL superuser';
    END IF;
END $$;

-- per source (accounts, projects, ...): the highest sourceseq stored, every
-- one up to it stored; written in the same statement as the entries.
CREATE TABLE source_cursors (
    source text PRIMARY KEY,
    after  bigint NOT NULL
);
