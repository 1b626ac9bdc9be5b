-- issue 15 P2: a create (and every other write of this service) costs what
-- PostgreSQL needs to commit its rows, not a parse of emit() on each call.
--
-- emit() comes from the shared base migrations (shared/src/outbox.c) as a
-- LANGUAGE sql function of two statements: not inlinable, so PostgreSQL 15
-- parses, analyses and plans its body again in every transaction that calls
-- it (fmgr_sql keeps it for one transaction only). Under `wrk` POST
-- /projects that was about a quarter of the backends' CPU (perf:
-- pg_parse_query, parse_analyze, pg_plan_query below fmgr_sql). The same
-- body in LANGUAGE plpgsql keeps its plans for the session's life.
--
-- The body is not copied here: it is the one installed, rewritten
-- statement for statement (the first, a SELECT run for its effect, becomes
-- PERFORM; the last, the INSERT ... RETURNING id, returns its id), so the
-- envelope stays the shared one. An emit() of another shape, or not in
-- LANGUAGE sql any more (the shared one may become plpgsql itself), is left
-- as it is, with a warning: correct, only not rewritten (a migration, once
-- applied, never changes: its checksum is kept).
DO $mig$
DECLARE
    src text;
    stmts text[];
BEGIN
    SELECT p.prosrc INTO src FROM pg_proc p
     WHERE p.oid = 'emit(text, text, bigint, jsonb)'::regprocedure
       AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql');
    IF src IS NULL THEN
        RETURN; -- not LANGUAGE sql: nothing parsed per call to save
    END IF;
    stmts := regexp_split_to_array(btrim(src, E' \n'), E';[ ]*\n[ ]*');
    IF array_length(stmts, 1) <> 2 OR stmts[1] !~ '^SELECT pg_notify\(.*\)$'
       OR stmts[2] !~ '^INSERT INTO outbox \(event\) VALUES .* RETURNING id$' THEN
        RAISE WARNING '0023_fast_create: emit() is not of the shape it rewrites; left as it is';
        RETURN;
    END IF;
    EXECUTE format(
        E'CREATE OR REPLACE FUNCTION emit(p_type text, p_subject text, p_actor bigint, '
         'p_data jsonb)\n  RETURNS bigint LANGUAGE plpgsql AS %L',
        format(E'\nDECLARE\n  r bigint;\nBEGIN\n  PERFORM %s;\n  %s INTO r;\n  RETURN r;\nEND\n',
               substr(stmts[1], length('SELECT ') + 1), stmts[2]));
END $mig$;

-- rfc3339() (shared base migration) is declared IMMUTABLE but its body is
-- not (to_char is STABLE), so PostgreSQL never inlines it: each of its call
-- sites in a statement is one more SQL function parsed and planned per
-- transaction (a create calls it four times: the document and the event's
-- data, created_at and updated_at). Declared STABLE, as its body is, it is
-- inlined into project_doc() and every other document. Only if it is still
-- the shared definition: a migration before this one (0022, the read path)
-- may have given it another, which then stays.
DO $mig$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc p
                WHERE p.oid = 'rfc3339(timestamptz)'::regprocedure AND p.provolatile = 'i'
                  AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql')
                  AND btrim(p.prosrc) = $src$SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')$src$)
    THEN
        ALTER FUNCTION rfc3339(timestamptz) STABLE;
    END IF;
END $mig$;
