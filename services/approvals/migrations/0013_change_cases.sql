-- issue 11 G: a case kind may have variants (case_kinds.c): data of each
-- case taken from its opening event (a change's level: general or major),
-- which rules may require and a review may change (a general change
-- reclassified as major). NULL for kinds without variants.
ALTER TABLE cases ADD COLUMN variant text;

CREATE OR REPLACE FUNCTION case_doc(c cases) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'kind', c.kind, 'subject', c.subject,
        'variant', c.variant, 'step', c.step, 'outcome', c.outcome,
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
