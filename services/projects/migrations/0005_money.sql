-- asset registration, payments and go-live (articles 12-13): the public
-- JSON of each record. The tables are in 0002_delivery.sql; the rules that
-- hold under concurrency are its unique indexes (one asset per project, an
-- asset number and a voucher number once) and the contracts row's
-- paid_cents, raised by one conditional UPDATE per payment (payments.c).
CREATE FUNCTION asset_doc(a assets) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'project_id', a.project_id, 'asset_no', a.asset_no,
        'value_cents', a.value_cents, 'registered_at', rfc3339(a.registered_at),
        'custodian', a.custodian, 'created_by', a.created_by,
        'created_at', rfc3339(a.created_at))
$$;

CREATE FUNCTION payment_doc(p payments) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'project_id', p.project_id,
        'contract_id', p.contract_id, 'amount_cents', p.amount_cents,
        'paid_at', rfc3339(p.paid_at), 'voucher_no', p.voucher_no, 'created_by', p.created_by,
        'created_at', rfc3339(p.created_at))
$$;

CREATE FUNCTION go_live_doc(g go_lives) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('project_id', g.project_id,
        'deployment_plan_uri', g.deployment_plan_uri, 'emergency_plan_uri', g.emergency_plan_uri,
        'test_environment_report_uri', g.test_environment_report_uri,
        'test_passed', g.test_passed, 'planned_at', rfc3339(g.planned_at),
        'created_by', g.created_by, 'created_at', rfc3339(g.created_at))
$$;

-- a contract's payments, in order (the list and the contract's running total)
CREATE INDEX payments_contract ON payments (contract_id, id);
