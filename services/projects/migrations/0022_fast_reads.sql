-- issue 15 P1: no SQL is parsed on every read.
--
-- rfc3339() was declared IMMUTABLE, but its body calls to_char(), which is
-- only STABLE. PostgreSQL never inlines a SQL function whose body is more
-- volatile than the function says it is, so every statement calling a
-- document function (project_doc(), transition_doc(), ...: each calls
-- rfc3339() for its instants) ran rfc3339() through the SQL-function
-- executor: its body parsed, analysed and planned again on every execution
-- of the statement (the executor's cache of it lives only as long as that
-- execution), then an executor started for every row. Under wrk that was
-- 30 % of the PostgreSQL backends' samples on GET /api/v1/projects/{id}
-- (base_yyparse, parse analysis, FuncnameGetCandidates, ExecutorStart), and
-- 50 rows of a list page started 100 executors.
--
-- Declared STABLE (what it is: to_char() may depend on settings; this format
-- does not), it is inlined into the calling statement, which is prepared
-- once per connection: the same text, the same answers, byte for byte.
CREATE OR REPLACE FUNCTION rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- The same document as project_doc(p)::text, byte for byte, built as text:
-- json_build_object() looks up the type and output function of each of its
-- fifteen arguments on every call (37 % of the backends' samples on a list
-- page of 50, after the fix above). Here only the three free-text fields go
-- through to_json() for their escaping; kind, state and suspended_from are
-- identifiers (their CHECK constraints), numbers and booleans print as
-- json_build_object prints them. The reads (GET /projects/{id}, the list)
-- use it; events and other documents keep project_doc(). A black-box test
-- (test_fast_reads.py) compares the two on every project the tests created.
CREATE FUNCTION project_doc_text(p projects) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT '{"id" : ' || p.id::text
        || ', "title" : ' || to_json(p.title)::text
        || ', "kind" : "' || p.kind
        || '", "summary" : ' || to_json(p.summary)::text
        || ', "budget_cents" : ' || p.budget_cents::text
        || ', "plan_item_code" : ' || coalesce(to_json(p.plan_item_code)::text, 'null')
        || ', "serves_external_units" : ' || p.serves_external_units::text
        || ', "state" : "' || p.state
        || '", "suspended_from" : ' || coalesce('"' || p.suspended_from || '"', 'null')
        || ', "department_id" : ' || p.department_id::text
        || ', "applicant_id" : ' || p.applicant_id::text
        || ', "version" : ' || p.version::text
        || ', "created_at" : "' || rfc3339(p.created_at)
        || '", "updated_at" : "' || rfc3339(p.updated_at) || '"}'
$$;
