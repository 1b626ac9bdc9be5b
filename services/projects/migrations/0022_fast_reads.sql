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
