-- maintenance fees (article 20): a system in operation that serves units
-- outside the owner may charge them a fee under an agreement the IT office
-- records (every revision kept, the head names the current one); the fees
-- received under it, each for a month; and what the fees were spent on.
-- Nothing here is ever deleted or changed: a new revision supersedes.

-- every revision of a project's fee agreement, as it was given
CREATE TABLE fee_agreements (
    project_id        bigint NOT NULL REFERENCES projects (id),
    revision          integer NOT NULL CHECK (revision >= 1),
    rate_basis_points integer NOT NULL CHECK (rate_basis_points BETWEEN 0 AND 10000),
    payer_units       text[] NOT NULL CHECK (cardinality(payer_units) BETWEEN 1 AND 100),
    effective_from    date NOT NULL,
    author_id         bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, revision)
);

-- the current revision of each project's agreement: an upsert on this row
-- numbers revisions without gaps or duplicates under parallel requests, and
-- carries the If-Match condition
CREATE TABLE fee_agreement_heads (
    project_id bigint PRIMARY KEY REFERENCES projects (id),
    revision   integer NOT NULL
);

CREATE TABLE fees (
    id                 bigserial PRIMARY KEY,
    project_id         bigint NOT NULL REFERENCES projects (id),
    agreement_revision integer NOT NULL,
    payer_unit         text NOT NULL,
    period             date NOT NULL CHECK (extract(day FROM period) = 1), -- its first day
    amount_cents       bigint NOT NULL CHECK (amount_cents BETWEEN 1 AND 1000000000000000),
    received_at        timestamptz NOT NULL,
    created_by         bigint NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (project_id, agreement_revision) REFERENCES fee_agreements (project_id, revision)
);
CREATE INDEX fees_project ON fees (project_id, id);
CREATE INDEX fees_period ON fees (period);

CREATE TABLE fee_uses (
    id           bigserial PRIMARY KEY,
    category     text NOT NULL
                 CHECK (category IN ('operations', 'iteration', 'upgrade', 'new_project')),
    amount_cents bigint NOT NULL CHECK (amount_cents BETWEEN 1 AND 1000000000000000),
    project_id   bigint REFERENCES projects (id),
    note         text NOT NULL,
    used_on      date NOT NULL,
    created_by   bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fee_uses_used_on ON fee_uses (used_on, id);

CREATE TRIGGER fee_agreements_no_delete BEFORE DELETE ON fee_agreements
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER fee_agreement_heads_no_delete BEFORE DELETE ON fee_agreement_heads
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER fees_no_delete BEFORE DELETE ON fees
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER fee_uses_no_delete BEFORE DELETE ON fee_uses
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION fee_agreement_doc(a fee_agreements) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('project_id', a.project_id, 'revision', a.revision,
        'rate_basis_points', a.rate_basis_points, 'payer_units', to_jsonb(a.payer_units),
        'effective_from', to_char(a.effective_from, 'YYYY-MM-DD'), 'author_id', a.author_id,
        'created_at', rfc3339(a.created_at))
$$;
CREATE FUNCTION fee_doc(f fees) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', f.id, 'project_id', f.project_id,
        'agreement_revision', f.agreement_revision, 'payer_unit', f.payer_unit,
        'period', to_char(f.period, 'YYYY-MM'), 'amount_cents', f.amount_cents,
        'received_at', rfc3339(f.received_at), 'created_by', f.created_by,
        'created_at', rfc3339(f.created_at))
$$;
CREATE FUNCTION fee_use_doc(u fee_uses) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'category', u.category,
        'amount_cents', u.amount_cents, 'project_id', u.project_id, 'note', u.note,
        'used_on', to_char(u.used_on, 'YYYY-MM-DD'), 'created_by', u.created_by,
        'created_at', rfc3339(u.created_at))
$$;
