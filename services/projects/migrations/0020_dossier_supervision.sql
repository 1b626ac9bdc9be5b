-- the dossier (article 25) holds the project's supervision too (issue 12):
-- the IT office's information requests with their answers and rectification
-- orders (0017_supervision.sql), every response to and verification of an
-- order (rectification_actions, each naming its order), the results shared
-- from the project, and the requests to resume it (0018_suspension.sql).
-- The suspensions, resumptions and termination are in `history`, their
-- escalation cases in `approvals`. project_dossier() of 0016_dossier.sql,
-- redefined whole with the `supervision` part added at its end.

-- The whole file of a project: what it is, every transition (its own and
-- its contracts'), every approval case about it with opinions, reviews and
-- decisions, every implementation plan revision, the milestones, the
-- contracts with what was paid, every version of every deliverable, the
-- acceptance (its cases and the transitions of requesting, returning and
-- accepting), the asset, the payments and the go-live, the system's life in
-- operation, and (here, issue 12) its supervision. Oldest first everywhere.
-- NULL if there is no such project.
CREATE OR REPLACE FUNCTION project_dossier(pid bigint) RETURNS json LANGUAGE sql STABLE AS $$
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
                       FROM fees f WHERE f.project_id = p.id)),
        'supervision', json_build_object(
            'info_requests', (SELECT coalesce(jsonb_agg(info_request_doc(i) ORDER BY i.id), '[]')
                                FROM info_requests i WHERE i.project_id = p.id),
            'rectifications', (SELECT coalesce(jsonb_agg(rectification_doc(x) ORDER BY x.id), '[]')
                                 FROM rectifications x WHERE x.project_id = p.id),
            'rectification_actions', (
                SELECT coalesce(jsonb_agg(jsonb_build_object('rectification_id', a.rectification_id)
                                          || rectification_action_doc(a) ORDER BY a.id), '[]')
                  FROM rectification_actions a JOIN rectifications x ON x.id = a.rectification_id
                 WHERE x.project_id = p.id),
            'shared_results', (SELECT coalesce(jsonb_agg(shared_result_doc(s) ORDER BY s.id), '[]')
                                 FROM shared_results s WHERE s.project_id = p.id),
            'resume_requests', (SELECT coalesce(jsonb_agg(resume_request_doc(q) ORDER BY q.id),
                                                '[]')
                                  FROM resume_requests q WHERE q.project_id = p.id)))
      FROM projects p WHERE p.id = pid
$$;
