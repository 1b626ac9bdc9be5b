-- Evaluations (issue 12, articles 23-24): what a project's yearly score is
-- computed from, read from the log (entries) and the usage samples (0017),
-- and the published yearly department scores. The score itself (weights,
-- weighted mean, rounding, suggestions) is computed by evaluations.c from
-- evaluation_components(); the definitions are written in api-spec
-- (components/schemas/Evaluation).

-- the UTC day of an instant given as RFC 3339 text (NULL stays NULL)
CREATE FUNCTION eval_day(t text) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (t::timestamptz AT TIME ZONE 'UTC')::date
$$;

-- one component: {name, value, evidence: {counted, met, seqs, dates}}
CREATE FUNCTION eval_component(p_name text, p_value numeric, p_counted bigint, p_met bigint,
                               p_seqs bigint[], p_dates date[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('name', p_name, 'value', p_value,
        'evidence', jsonb_build_object('counted', p_counted, 'met', p_met,
            'seqs', to_jsonb(coalesce(p_seqs, '{}'::bigint[])),
            'dates', coalesce((SELECT jsonb_agg(to_char(d, 'YYYY-MM-DD') ORDER BY d)
                                 FROM unnest(p_dates) d), '[]'::jsonb)))
$$;

-- The department of project p_id as its newest event naming one says (NULL:
-- the log holds no event of this project).
CREATE FUNCTION eval_project_department(p_id bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT (e.data->>'department_id')::bigint FROM entries e
     WHERE e.subject = 'projects/' || p_id AND e.type LIKE 'itgov.project.%'
       AND e.data ? 'department_id'
     ORDER BY e.seq DESC LIMIT 1
$$;

-- The projects of department d_id: those whose creation event names it.
CREATE FUNCTION eval_department_projects(d_id bigint) RETURNS SETOF bigint
    LANGUAGE sql STABLE AS $$
    SELECT DISTINCT (e.data->>'id')::bigint FROM entries e
     WHERE e.type = 'itgov.project.created' AND e.data->>'department_id' = d_id::text
$$;

-- Whether the log holds the creation of department d_id.
CREATE FUNCTION eval_department_exists(d_id bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM entries e WHERE e.subject = 'departments/' || d_id
                      AND e.type = 'itgov.account.department.created')
$$;

-- The seven components of project p_id in year p_year, as a JSON array in
-- the order usage, availability, spot_checks, rectifications_on_time,
-- milestones_on_time, info_requests_on_time, backup_freshness. value is the
-- exact percentage (0-100) or null when the year holds no evidence for it.
-- Days are UTC days; "today" is the current UTC day. See api-spec
-- (components/schemas/Evaluation) for each definition.
CREATE FUNCTION evaluation_components(p_id bigint, p_year integer) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    subj text := 'projects/' || p_id;
    y0 date := make_date(p_year, 1, 1);
    y1 date := make_date(p_year, 12, 31);
    today date := (now() AT TIME ZONE 'UTC')::date;
    y_end date := least(make_date(p_year, 12, 31), (now() AT TIME ZONE 'UTC')::date);
    op_seqs bigint[];
    op_days date[];
    op_in boolean[];
    days date[];
    n bigint;
    m bigint;
    v numeric;
    seqs bigint[];
    dates date[];
    out jsonb := '[]'::jsonb;
BEGIN
    -- days in operation. The project's state at the end of a UTC day is the
    -- state of its newest event (subject projects/{id}) whose data is the
    -- project (it has state and department_id) dated that day or before; the
    -- days in operation of the year are those from y0 to y_end on which it
    -- is in_operation. op_*: the events where it entered or left operation.
    WITH st AS (SELECT e.seq, (e.time AT TIME ZONE 'UTC')::date AS day,
                       e.data->>'state' = 'in_operation' AS inop,
                       lag(e.data->>'state' = 'in_operation') OVER (ORDER BY e.seq) AS prev
                  FROM entries e
                 WHERE e.subject = subj AND e.type LIKE 'itgov.project.%'
                   AND e.data ? 'state' AND e.data ? 'department_id')
    SELECT coalesce(array_agg(st.seq ORDER BY st.seq), '{}'), array_agg(st.day ORDER BY st.seq),
           array_agg(st.inop ORDER BY st.seq)
      INTO op_seqs, op_days, op_in
      FROM st WHERE st.inop IS DISTINCT FROM coalesce(st.prev, false) AND st.day <= y_end;
    SELECT coalesce(array_agg(g.d::date ORDER BY g.d), '{}') INTO days
      FROM generate_series(y0::timestamp, y_end::timestamp, interval '1 day') AS g(d)
     WHERE cardinality(op_seqs) > 0
       AND (SELECT t.inop FROM unnest(op_seqs, op_days, op_in) AS t(seq, day, inop)
             WHERE t.day <= g.d::date ORDER BY t.seq DESC LIMIT 1);

    -- usage: days in operation with a live sample showing active_users > 0
    SELECT coalesce(array_agg(s.date ORDER BY s.date), '{}') INTO dates
      FROM usage_samples s
     WHERE s.project_id = p_id AND s.replaced_by IS NULL AND s.active_users > 0
       AND s.date = ANY (days);
    out := out || jsonb_build_array(eval_component('usage',
        CASE WHEN cardinality(days) > 0
             THEN 100.0 * cardinality(dates) / cardinality(days) END,
        cardinality(days), cardinality(dates), op_seqs, dates));

    -- availability: mean availability_percent of the year's live samples
    SELECT avg(s.availability_percent), count(*), array_agg(s.date ORDER BY s.date)
      INTO v, n, dates
      FROM usage_samples s
     WHERE s.project_id = p_id AND s.replaced_by IS NULL AND s.date BETWEEN y0 AND y1;
    out := out || jsonb_build_array(eval_component('availability', v, n, NULL, NULL, dates));

    -- spot_checks: the year's spot checks (checked_at) that passed
    SELECT count(*), count(*) FILTER (WHERE e.data->>'result' = 'pass'), array_agg(e.seq ORDER BY e.seq)
      INTO n, m, seqs
      FROM entries e
     WHERE e.subject = subj AND e.type = 'itgov.project.spot_check.recorded'
       AND eval_day(e.data->>'checked_at') BETWEEN y0 AND y1;
    out := out || jsonb_build_array(eval_component('spot_checks',
        CASE WHEN n > 0 THEN 100.0 * m / n END, n, m, seqs, NULL));

    -- rectifications_on_time: each rectification as its newest event shows
    -- it; due in the year (deadline's UTC day), counted once closed or past
    -- its deadline; on time when closed_at <= deadline
    WITH r AS (SELECT DISTINCT ON (e.data->>'id') e.seq, e.data FROM entries e
                WHERE e.type LIKE 'itgov.rectification.%' AND e.data->>'project_id' = p_id::text
                ORDER BY e.data->>'id', e.seq DESC),
    due AS (SELECT r.seq, (r.data->>'deadline')::timestamptz AS deadline,
                   (r.data->>'closed_at')::timestamptz AS closed
              FROM r WHERE eval_day(r.data->>'deadline') BETWEEN y0 AND y1)
    SELECT count(*), count(*) FILTER (WHERE closed <= deadline), array_agg(seq ORDER BY seq)
      INTO n, m, seqs
      FROM due WHERE closed IS NOT NULL OR deadline < now();
    out := out || jsonb_build_array(eval_component('rectifications_on_time',
        CASE WHEN n > 0 THEN 100.0 * m / n END, n, m, seqs, NULL));

    -- milestones_on_time: each milestone as the newest event naming it shows
    -- it (the implementation plan's revisions, .completed, .overdue); due in
    -- the year, counted once completed or due before today; on time when
    -- completed on or before its due date (UTC day of completed_at)
    WITH ms AS (SELECT DISTINCT ON (a.doc->>'id') a.seq, a.doc FROM (
                    SELECT e.seq, x.doc FROM entries e,
                           jsonb_array_elements(CASE WHEN jsonb_typeof(
                               e.data->'implementation_plan'->'milestones') = 'array'
                               THEN e.data->'implementation_plan'->'milestones'
                               ELSE '[]'::jsonb END) AS x(doc)
                     WHERE e.subject = subj AND e.type = 'itgov.project.implementation_planned'
                    UNION ALL
                    SELECT e.seq, e.data->'milestone' FROM entries e
                     WHERE e.subject = subj
                       AND e.type IN ('itgov.project.milestone.completed',
                                      'itgov.project.milestone.overdue')) a
                 WHERE a.doc ? 'id' ORDER BY a.doc->>'id', a.seq DESC),
    due AS (SELECT ms.seq, (ms.doc->>'due_date')::date AS due,
                   eval_day(ms.doc->>'completed_at') AS done
              FROM ms WHERE (ms.doc->>'due_date')::date BETWEEN y0 AND y1)
    SELECT count(*), count(*) FILTER (WHERE done <= due), array_agg(seq ORDER BY seq)
      INTO n, m, seqs
      FROM due WHERE done IS NOT NULL OR due < today;
    out := out || jsonb_build_array(eval_component('milestones_on_time',
        CASE WHEN n > 0 THEN 100.0 * m / n END, n, m, seqs, NULL));

    -- info_requests_on_time: each information request as its newest event
    -- shows it; due in the year (due_date), counted once answered or due
    -- before today; on time when answered on or before its due date
    WITH q AS (SELECT DISTINCT ON (e.data->>'id') e.seq, e.data FROM entries e
                WHERE e.type LIKE 'itgov.info\_request.%' AND e.data->>'project_id' = p_id::text
                ORDER BY e.data->>'id', e.seq DESC),
    due AS (SELECT q.seq, (q.data->>'due_date')::date AS due,
                   eval_day(q.data->>'answered_at') AS done
              FROM q WHERE (q.data->>'due_date')::date BETWEEN y0 AND y1)
    SELECT count(*), count(*) FILTER (WHERE done <= due), array_agg(seq ORDER BY seq)
      INTO n, m, seqs
      FROM due WHERE done IS NOT NULL OR due < today;
    out := out || jsonb_build_array(eval_component('info_requests_on_time',
        CASE WHEN n > 0 THEN 100.0 * m / n END, n, m, seqs, NULL));

    -- backup_freshness: days in operation on which the newest backup taken
    -- on or before that day (taken_at's UTC day) is at most 7 days old
    WITH b AS (SELECT e.seq, eval_day(e.data->>'taken_at') AS day FROM entries e
                WHERE e.subject = subj AND e.type = 'itgov.backup.recorded')
    SELECT array_agg(d ORDER BY d) INTO dates FROM unnest(days) AS d
     WHERE EXISTS (SELECT 1 FROM b WHERE b.day BETWEEN d - 7 AND d);
    WITH b AS (SELECT e.seq, eval_day(e.data->>'taken_at') AS day FROM entries e
                WHERE e.subject = subj AND e.type = 'itgov.backup.recorded')
    SELECT array_agg(b.seq ORDER BY b.seq) INTO seqs FROM b
     WHERE EXISTS (SELECT 1 FROM unnest(days) AS d WHERE b.day BETWEEN d - 7 AND d);
    out := out || jsonb_build_array(eval_component('backup_freshness',
        CASE WHEN cardinality(days) > 0
             THEN 100.0 * coalesce(cardinality(dates), 0) / cardinality(days) END,
        cardinality(days), coalesce(cardinality(dates), 0), seqs, dates));
    RETURN out;
END $$;

-- Published yearly department scores: a new version per publication, never
-- changed, never deleted.
CREATE TABLE evaluations (
    id            bigserial PRIMARY KEY,
    department_id bigint NOT NULL,
    year          integer NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    score         numeric(4, 1),
    components    jsonb NOT NULL,
    projects      jsonb NOT NULL,
    suggestions   jsonb NOT NULL,
    weights       jsonb NOT NULL,
    published_by  bigint NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evaluations_version_key UNIQUE (department_id, year, version)
);

-- the last version given per department and year: the upsert that takes
-- the next one holds the row until its transaction ends, so concurrent
-- publications get distinct versions, none lost
CREATE TABLE evaluation_versions (
    department_id bigint NOT NULL,
    year          integer NOT NULL,
    last          integer NOT NULL,
    PRIMARY KEY (department_id, year)
);

CREATE FUNCTION evaluation_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published evaluation is never changed' USING ERRCODE = '55000';
END $$;

CREATE TRIGGER evaluations_no_delete BEFORE DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER evaluations_no_update BEFORE UPDATE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION evaluation_frozen();
CREATE TRIGGER evaluation_versions_no_delete BEFORE DELETE ON evaluation_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION evaluation_doc(v evaluations) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('department_id', v.department_id, 'year', v.year,
        'version', v.version, 'score', v.score, 'components', v.components,
        'projects', v.projects, 'suggestions', v.suggestions, 'weights', v.weights,
        'published_by', v.published_by, 'published_at', rfc3339(v.published_at))
$$;
