-- the dossier (issue 10, article 25): the approval cases as the approvals
-- service's events told them (keep_case, called by consumer.c), and the
-- whole file of a project in one document (project_dossier), read in one
-- statement so every part of it is of the same moment. The records are
-- shown as their own documents (implementation_plan_doc, milestone_doc of
-- 0003_implementation.sql, contract_doc, deliverable_doc of
-- 0004_contracts.sql, asset_doc, payment_doc, go_live_doc of 0005_money.sql),
-- and the system's life in operation (issue 11: spot checks, changes and
-- their cases, backups, system accounts, fee agreements and fees, of
-- 0011-0014), which is why this file comes after theirs.

-- Keeps the case document an approvals event carries (data.case) for the
-- project it is about: subject projects/{id}, or contracts/{cid} (that
-- contract's project). Upsert by case id; a doc replaces the kept one only
-- if its event is newer (sourceseq), so a replayed or older event changes
-- nothing. Returns 1 if it kept the doc, else 0 (not about a project here,
-- or not newer).
CREATE FUNCTION keep_case(doc jsonb, seq bigint) RETURNS integer LANGUAGE sql VOLATILE AS $$
    WITH s AS (
        SELECT (doc->>'id')::bigint AS case_id, doc->>'kind' AS kind, doc->>'subject' AS subject,
               substring(doc->>'subject' FROM '^projects/([1-9][0-9]{0,17})$')::bigint AS pid,
               substring(doc->>'subject' FROM '^contracts/([1-9][0-9]{0,17})$')::bigint AS cid,
               substring(doc->>'subject' FROM '^changes/([1-9][0-9]{0,17})$')::bigint AS chid
         WHERE jsonb_typeof(doc->'id') = 'number' AND jsonb_typeof(doc->'kind') = 'string'),
    p AS (
        SELECT s.case_id, s.kind, s.subject,
               coalesce((SELECT id FROM projects WHERE id = s.pid),
                        (SELECT project_id FROM contracts WHERE id = s.cid),
                        (SELECT project_id FROM changes WHERE id = s.chid)) AS project_id
          FROM s),
    k AS (
        INSERT INTO approval_cases (case_id, project_id, kind, subject, doc, sourceseq)
        SELECT p.case_id, p.project_id, p.kind, p.subject, doc, seq FROM p
         WHERE p.project_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc, sourceseq = excluded.sourceseq,
            updated_at = now()
         WHERE approval_cases.sourceseq < excluded.sourceseq
        RETURNING 1)
    SELECT count(*)::integer FROM k
$$;

-- The whole file of a project: what it is, every transition (its own and
-- its contracts'), every approval case about it with opinions, reviews and
-- decisions, every implementation plan revision, the milestones, the
-- contracts with what was paid, every version of every deliverable, the
-- acceptance (its cases and the transitions of requesting, returning and
-- accepting), the asset, the payments and the go-live. Oldest first
-- everywhere. NULL if there is no such project.
CREATE FUNCTION project_dossier(pid bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'project', project_doc(p),
        'history', (SELECT coalesce(jsonb_agg(transition_doc(t) ||
                               jsonb_build_object('subject', t.subject) ORDER BY t.id), '[]')
                      FROM transitions t
                     WHERE t.subject = 'projects/' || p.id
                        OR t.subject IN (SELECT 'contracts/' || c.id FROM contracts c
                                          WHERE c.project_id = p.id)
                        OR t.subject IN (SELECT 'changes/' || c.id FROM changes c
                                          WHERE c.project_id = p.id)),
        'approvals', (SELECT coalesce(jsonb_agg(a.doc ORDER BY a.case_id), '[]')
                        FROM approval_cases a WHERE a.project_id = p.id),
        'implementation_plan', (
            SELECT jsonb_build_object(
                       'current', (array_agg(implementation_plan_doc(i) ORDER BY i.revision DESC))[1],
                       'revisions', jsonb_agg(implementation_plan_doc(i) ORDER BY i.revision))
              FROM implementation_plans i WHERE i.project_id = p.id
            HAVING count(*) > 0),
        'milestones', (SELECT coalesce(jsonb_agg(milestone_doc(m) ORDER BY m.id), '[]')
                         FROM milestones m WHERE m.project_id = p.id),
        'contracts', (SELECT coalesce(jsonb_agg(contract_doc(c) ORDER BY c.id), '[]')
                        FROM contracts c WHERE c.project_id = p.id),
        'deliverables', (SELECT coalesce(jsonb_agg(deliverable_doc(d) ORDER BY d.id), '[]')
                           FROM deliverables d WHERE d.project_id = p.id),
        'acceptance', jsonb_build_object(
            'accepted_at', (SELECT rfc3339(max(t.at)) FROM transitions t
                             WHERE t.subject = 'projects/' || p.id
                               AND t.action = 'acceptance_pass'),
            'cases', (SELECT coalesce(jsonb_agg(a.doc ORDER BY a.case_id), '[]')
                        FROM approval_cases a
                       WHERE a.project_id = p.id AND a.kind = 'acceptance'),
            'transitions', (SELECT coalesce(jsonb_agg(transition_doc(t) ORDER BY t.id), '[]')
                              FROM transitions t
                             WHERE t.subject = 'projects/' || p.id
                               AND t.action IN ('request_acceptance', 'acceptance_return',
                                                'acceptance_pass'))),
        'asset', (SELECT asset_doc(s) FROM assets s WHERE s.project_id = p.id),
        'payments', (SELECT coalesce(jsonb_agg(payment_doc(y) ORDER BY y.id), '[]')
                       FROM payments y WHERE y.project_id = p.id),
        'go_live', (SELECT go_live_doc(g) FROM go_lives g WHERE g.project_id = p.id),
        'operations', jsonb_build_object(
            'spot_checks', (SELECT coalesce(jsonb_agg(spot_check_doc(s) ORDER BY s.id), '[]')
                              FROM spot_checks s WHERE s.project_id = p.id),
            'changes', (SELECT coalesce(jsonb_agg(change_doc(c) ORDER BY c.id), '[]')
                          FROM changes c WHERE c.project_id = p.id),
            'backups', (SELECT coalesce(jsonb_agg(backup_doc(b) ORDER BY b.id), '[]')
                          FROM backups b WHERE b.project_id = p.id),
            'system_accounts', (SELECT coalesce(jsonb_agg(system_account_doc(a) ORDER BY a.id),
                                                '[]')
                                  FROM system_accounts a WHERE a.project_id = p.id),
            'fee_agreements', (SELECT coalesce(jsonb_agg(fee_agreement_doc(a)
                                                         ORDER BY a.revision), '[]')
                                 FROM fee_agreements a WHERE a.project_id = p.id),
            'fees', (SELECT coalesce(jsonb_agg(fee_doc(f) ORDER BY f.id), '[]')
                       FROM fees f WHERE f.project_id = p.id)))
      FROM projects p WHERE p.id = pid
$$;
