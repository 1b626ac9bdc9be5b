-- issue 12 B: escalation cases (article 22), about a project (subject
-- projects/{id}), opened by an overdue rectification (variant
-- rectification) or by the IT office's resume request (variant resume),
-- decided by a meeting (case_kinds.c).

-- What a case keeps of its opening event (case_kinds.c, case_open_data):
-- an escalation names its rectification ({"rectification_id": 7}) or its
-- resume request ({"resume_request_id": 3, "reason": "..."}); NULL for the
-- other kinds.
ALTER TABLE cases ADD COLUMN data jsonb;

-- One open case per subject stays the rule for every kind but escalation:
-- an escalation opens while another case of its project is open (an
-- acceptance, say), and each overdue rectification has its own. So: at
-- most one open escalation per project, variant and rectification (a
-- resume request's has none: one open resume escalation per project).
DROP INDEX cases_one_open;
CREATE UNIQUE INDEX cases_one_open ON cases (subject)
    WHERE step <> 'closed' AND kind <> 'escalation';
CREATE UNIQUE INDEX cases_one_open_escalation
    ON cases (subject, variant, (coalesce(data->>'rectification_id', '')))
    WHERE step <> 'closed' AND kind = 'escalation';

-- an escalation closes continued, suspended, terminated, resumed or rejected
ALTER TABLE cases DROP CONSTRAINT cases_outcome_check;
ALTER TABLE cases ADD CONSTRAINT cases_outcome_check
    CHECK (outcome IN ('approved', 'rejected', 'returned',
                       'continued', 'suspended', 'terminated', 'resumed'));

CREATE OR REPLACE FUNCTION case_doc(c cases) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'kind', c.kind, 'subject', c.subject,
        'variant', c.variant, 'data', c.data, 'step', c.step, 'outcome', c.outcome,
        'experts', (SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', x.user_id,
                        'invited_by', x.invited_by, 'invited_at', rfc3339(x.invited_at))
                        ORDER BY x.invited_at, x.user_id), '[]'::jsonb)
                      FROM case_experts x WHERE x.case_id = c.id),
        'opinions', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id,
                        'author_id', o.author_id, 'stance', o.stance, 'comment', o.comment,
                        'conflict_of_interest', o.conflict_of_interest,
                        'counted', NOT o.conflict_of_interest, 'at', rfc3339(o.at))
                        ORDER BY o.id), '[]'::jsonb)
                       FROM opinions o WHERE o.case_id = c.id),
        'review', c.review, 'decision', c.decision,
        'opened_at', rfc3339(c.opened_at), 'due_at', rfc3339(c.due_at),
        'overdue', c.step <> 'closed' AND c.due_at < now(),
        'closed_at', rfc3339(c.closed_at))
$$;
