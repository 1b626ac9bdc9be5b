-- the implementation plan (article 8) and its milestones (article 10):
-- the public documents, the one function that writes a revision (under
-- the project's row lock, so concurrent revisions get distinct numbers and
-- each sees the milestones the one before left), and what the overdue
-- scan and list read.

-- the day a due date is compared with: today in UTC
CREATE FUNCTION utc_today() RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE 'UTC')::date
$$;

CREATE FUNCTION milestone_doc(m milestones) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', m.id, 'project_id', m.project_id, 'name', m.name,
        'due_date', to_char(m.due_date, 'YYYY-MM-DD'), 'completed_at', rfc3339(m.completed_at),
        'completed_by', m.completed_by, 'note', m.note,
        'overdue', m.completed_at IS NULL AND m.due_date < utc_today(),
        'overdue_at', rfc3339(m.overdue_at),
        'created_at', rfc3339(m.created_at), 'updated_at', rfc3339(m.updated_at))
$$;

CREATE FUNCTION implementation_plan_doc(ip implementation_plans) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('project_id', ip.project_id, 'revision', ip.revision,
        'goals', ip.goals, 'team', ip.team, 'milestones', ip.milestones,
        'author_id', ip.author_id, 'created_at', rfc3339(ip.created_at))
$$;

CREATE INDEX milestones_project ON milestones (project_id, id);
CREATE INDEX milestones_overdue ON milestones (id) WHERE completed_at IS NULL;

-- Writes a revision of project p_id's plan in one call: locks the project
-- row by moving it (p_from[i] → p_to[i], the FSM's plan action), numbers
-- the revision, adds or moves the milestones, stores the revision with all
-- the project's milestones, writes the transition when the state changed,
-- and emits p_event. Returns {"ok": doc} or, changing nothing,
-- {"state": s} (not in a state of p_from), {"stale": revision} (p_expect
-- given and not the current revision), {"completed": i} (milestone i is
-- completed with another due date).
CREATE FUNCTION implementation_plan_put(p_id bigint, p_actor bigint, p_goals text, p_team jsonb,
                                        p_milestones jsonb, p_expect integer, p_from text[],
                                        p_to text[], p_event text)
    RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    old_state text;
    p projects;
    rev integer;
    bad integer;
    ip implementation_plans;
BEGIN
    SELECT state INTO old_state FROM projects WHERE id = p_id FOR UPDATE;
    IF old_state IS NULL THEN
        RETURN jsonb_build_object('state', NULL);
    END IF;
    IF NOT old_state = ANY (p_from) THEN
        RETURN jsonb_build_object('state', old_state);
    END IF;
    SELECT coalesce(max(revision), 0) INTO rev FROM implementation_plans WHERE project_id = p_id;
    IF p_expect IS NOT NULL AND p_expect <> rev THEN
        RETURN jsonb_build_object('stale', rev);
    END IF;
    SELECT e.i - 1 INTO bad
      FROM jsonb_array_elements(p_milestones) WITH ORDINALITY AS e(m, i)
      JOIN milestones m ON m.project_id = p_id AND m.name = e.m->>'name'
     WHERE m.completed_at IS NOT NULL AND m.due_date <> (e.m->>'due_date')::date
     ORDER BY e.i LIMIT 1;
    IF bad IS NOT NULL THEN
        RETURN jsonb_build_object('completed', bad);
    END IF;

    UPDATE projects SET state = t.t, version = version + 1, updated_at = now()
      FROM unnest(p_from, p_to) AS t(f, t)
     WHERE id = p_id AND state = t.f RETURNING projects.* INTO p;

    INSERT INTO milestones AS m (project_id, name, due_date)
    SELECT p_id, e.m->>'name', (e.m->>'due_date')::date
      FROM jsonb_array_elements(p_milestones) WITH ORDINALITY AS e(m, i) ORDER BY e.i
    ON CONFLICT (project_id, name) DO UPDATE
       SET due_date = excluded.due_date,
           overdue_at = CASE WHEN m.due_date = excluded.due_date THEN m.overdue_at END,
           updated_at = now()
     WHERE m.completed_at IS NULL AND m.due_date <> excluded.due_date;

    INSERT INTO implementation_plans (project_id, revision, goals, team, milestones, author_id)
    VALUES (p_id, rev + 1, p_goals, p_team,
            (SELECT coalesce(jsonb_agg(milestone_doc(m) ORDER BY m.id), '[]'::jsonb)
               FROM milestones m WHERE m.project_id = p_id),
            p_actor)
    RETURNING * INTO ip;

    IF old_state <> p.state THEN
        INSERT INTO transitions (subject, from_state, to_state, action, actor_id)
        VALUES ('projects/' || p_id, old_state, p.state, 'plan', p_actor);
    END IF;
    PERFORM emit(p_event, 'projects/' || p_id, p_actor,
                 project_event(p) || jsonb_build_object('implementation_plan',
                                                        implementation_plan_doc(ip)));
    RETURN jsonb_build_object('ok', implementation_plan_doc(ip));
END $$;
