-- issue 15 P1: the reads of GET /api/v1/projects/{id} and the list page.
-- (The first finding, rfc3339() declared IMMUTABLE around the STABLE
-- to_char() and so never inlined — its body parsed and planned on every
-- execution, 30 % of the backends' samples — is fixed for every schema by
-- the shared migration 0000_plans_kept, shared/src/outbox.c.)

-- The same document as project_doc(p)::text, byte for byte, built as text:
-- json_build_object() looks up the type and output function of each of its
-- fifteen arguments on every call (37 % of the backends' samples on a list
-- page of 50, once rfc3339() was inlined). Here only the three free-text fields go
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
