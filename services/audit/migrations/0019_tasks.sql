-- Issue 13 T: the to-do list (GET /api/v1/me/tasks), a read model audit keeps
-- from the events it stores. The kinds of task are rows of a C table
-- (src/task_kinds.c); a follower of the log (src/tasks.c) reads the entries
-- after its cursor, turns each event into open/close operations with that
-- table, and applies one page of them with tasks_apply() — the operations
-- and the new cursor in one statement, so a page is applied once and whole:
-- a task never misses its closing event and a replay never duplicates one.
--
-- Who may act is stored per task as an audience, evaluated for the caller
-- at read time from the session principal: roles (any of aud_roles; none =
-- any role), a department (aud_dept: the caller's department_id), a user
-- (aud_user: an invited expert). Nothing here is ever deleted.

CREATE TABLE tasks (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,            -- task_kinds.c: initiation_review, rectification, ...
    key         text NOT NULL,            -- what it is about: approvals/12, rectifications/4, milestones/9
    aud_user    bigint,                   -- only this user (an invited expert)
    aud_roles   text[] NOT NULL DEFAULT '{}', -- any of these roles ('{}': any role)
    aud_dept    bigint,                   -- only this department's users
    title       text NOT NULL,
    subject     text NOT NULL,            -- REST path below /api/v1 of the thing to act on
    project_id  bigint,
    case_id     bigint,
    step        text,
    actions     jsonb NOT NULL DEFAULT '[]',
    due_at      timestamptz,
    due_is_date boolean NOT NULL DEFAULT false, -- due_at is a calendar date (overdue after it)
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'withdrawn')),
    opened_at   timestamptz NOT NULL,
    opened_seq  bigint NOT NULL,          -- the log entry that opened it (last reopened it)
    done_at     timestamptz,
    done_seq    bigint,
    done_by     bigint                    -- the closing event's actor, when one who may act
);
CREATE UNIQUE INDEX tasks_one ON tasks (kind, key, coalesce(aud_user, 0));
CREATE INDEX tasks_open ON tasks (opened_seq, id) WHERE status = 'open';
CREATE INDEX tasks_done_by ON tasks (done_by, done_seq, id) WHERE done_by IS NOT NULL;

-- the follower's position in the log: every entry up to it is applied
CREATE TABLE task_cursor (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    after bigint NOT NULL
);
INSERT INTO task_cursor (after) VALUES (0);

-- Whether an open task is past its due date (a date: after that day, UTC).
CREATE FUNCTION task_overdue(t tasks) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT t.status = 'open' AND t.due_at IS NOT NULL AND
           CASE WHEN t.due_is_date
                THEN (now() AT TIME ZONE 'UTC')::date > (t.due_at AT TIME ZONE 'UTC')::date
                ELSE now() > t.due_at END
$$;

-- The answer's item.
CREATE FUNCTION task_doc(t tasks) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', t.id, 'kind', t.kind, 'title', t.title,
               'subject', t.subject, 'project_id', t.project_id, 'actions', t.actions,
               'overdue', task_overdue(t), 'opened_at', rfc3339(t.opened_at))
        || jsonb_strip_nulls(jsonb_build_object('case_id', t.case_id, 'step', t.step,
               'due_at', rfc3339(t.due_at), 'done_at', rfc3339(t.done_at)))
$$;

-- Whether the caller (user id, department, role names) may act on t.
CREATE FUNCTION task_for(t tasks, p_user bigint, p_dept bigint, p_roles text[])
    RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT (t.aud_user IS NULL OR t.aud_user = p_user)
       AND (t.aud_dept IS NULL OR t.aud_dept = p_dept)
       AND (cardinality(t.aud_roles) = 0 OR t.aud_roles && p_roles)
$$;

-- An instant or date of an event's data as timestamptz, NULL if it is none
-- (a malformed value must not stop the follower).
CREATE FUNCTION task_time(p text) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN p::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- Applies one page of operations (tasks.c, built by task_kinds.c) in order
-- and moves the cursor from p_from to p_upto; refuses (0 rows, nothing
-- applied) when the cursor is not at p_from. An operation:
--   {"op": "open", "kind", "key", "seq", "at", "title", "subject",
--    "project_id"?, "project_of"? (a subject whose newest event names its
--    project_id), "case_id"?, "step"?, "actions", "due_at"?, "due_is_date",
--    "aud_user"?, "aud_roles", "aud_dept"?, "dept_of_project"? (true: the
--    department is the project's, from the log)}
--   {"op": "close", "kind", "key", "seq", "at", "actor"?, "user"? (only
--    that user's task)}
-- An open of a task already there opens it again (a reopened
-- rectification) unless that entry is not newer; a close closes an open
-- task opened before it. Each operation is one indexed statement.
CREATE FUNCTION tasks_apply(p_from bigint, p_upto bigint, p_ops jsonb)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    o jsonb;
    n bigint := 0;
    v_project bigint;
    v_dept bigint;
BEGIN
    UPDATE task_cursor SET after = p_upto WHERE after = p_from;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    FOR o IN SELECT * FROM jsonb_array_elements(p_ops) LOOP
        n := n + 1;
        IF o->>'op' = 'open' THEN
            v_project := (o->>'project_id')::bigint;
            IF v_project IS NULL AND o ? 'project_of' THEN
                SELECT (e.data->>'project_id')::bigint INTO v_project FROM entries e
                 WHERE e.subject = o->>'project_of' AND jsonb_typeof(e.data) = 'object'
                   AND jsonb_typeof(e.data->'project_id') = 'number'
                 ORDER BY e.seq DESC LIMIT 1;
            END IF;
            v_dept := (o->>'aud_dept')::bigint;
            IF v_dept IS NULL AND (o->>'dept_of_project')::boolean AND v_project IS NOT NULL THEN
                SELECT f.department_id INTO v_dept FROM project_fact(v_project) f;
            END IF;
            INSERT INTO tasks AS t (kind, key, aud_user, aud_roles, aud_dept, title, subject,
                                    project_id, case_id, step, actions, due_at, due_is_date,
                                    opened_at, opened_seq)
            VALUES (o->>'kind', o->>'key', (o->>'aud_user')::bigint,
                    ARRAY(SELECT jsonb_array_elements_text(coalesce(o->'aud_roles', '[]'))),
                    v_dept, o->>'title', o->>'subject', v_project, (o->>'case_id')::bigint,
                    o->>'step', coalesce(o->'actions', '[]'), task_time(o->>'due_at'),
                    coalesce((o->>'due_is_date')::boolean, false), (o->>'at')::timestamptz,
                    (o->>'seq')::bigint)
            ON CONFLICT (kind, key, coalesce(aud_user, 0)) DO UPDATE
               SET status = 'open', title = excluded.title, subject = excluded.subject,
                   project_id = excluded.project_id, aud_roles = excluded.aud_roles,
                   aud_dept = excluded.aud_dept, case_id = excluded.case_id,
                   step = excluded.step, actions = excluded.actions, due_at = excluded.due_at,
                   due_is_date = excluded.due_is_date, opened_at = excluded.opened_at,
                   opened_seq = excluded.opened_seq, done_at = NULL, done_seq = NULL,
                   done_by = NULL
             WHERE t.opened_seq < excluded.opened_seq
               AND (t.done_seq IS NULL OR t.done_seq < excluded.opened_seq);
        ELSIF o->>'op' = 'close' THEN
            UPDATE tasks t
               SET status = CASE WHEN (o->>'actor') IS NOT NULL
                                  AND (t.aud_user IS NULL OR t.aud_user = (o->>'actor')::bigint)
                                 THEN 'done' ELSE 'withdrawn' END,
                   done_at = (o->>'at')::timestamptz, done_seq = (o->>'seq')::bigint,
                   done_by = CASE WHEN t.aud_user IS NULL OR t.aud_user = (o->>'actor')::bigint
                                  THEN (o->>'actor')::bigint END
             WHERE t.kind = o->>'kind' AND t.key = o->>'key' AND t.status = 'open'
               AND t.opened_seq < (o->>'seq')::bigint
               AND (o->>'user' IS NULL OR coalesce(t.aud_user, 0) = (o->>'user')::bigint);
        END IF;
    END LOOP;
    RETURN n;
END $$;
