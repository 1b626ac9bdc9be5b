-- access reviews (articles 18-19): the certifications admins record, and
-- the live system accounts of the governed systems as the projects
-- service's events tell them (project.system_account.assigned / .revoked),
-- so a review can find accounts held by disabled itgov users.

-- one row per system account the projects service registered; revoked_at
-- set by its revoke event. Written only by the follower (consumer.c).
CREATE TABLE system_accounts (
    id             bigint PRIMARY KEY,  -- the projects service's id
    project_id     bigint NOT NULL,
    account_name   text NOT NULL,
    holder_user_id bigint NOT NULL,
    kind           text NOT NULL,
    assigned_at    timestamptz,
    revoked_at     timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_accounts_live_holder ON system_accounts (holder_user_id)
    WHERE revoked_at IS NULL;

-- a recorded certification: what the admin reviewed and decided. Kept as
-- written: never updated, never deleted.
CREATE TABLE access_reviews (
    id                bigserial PRIMARY KEY,
    reviewer_id       bigint NOT NULL,
    findings_reviewed jsonb NOT NULL,
    decisions         jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are never changed', TG_TABLE_NAME USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER access_reviews_no_update BEFORE UPDATE ON access_reviews
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER access_reviews_no_delete BEFORE DELETE ON access_reviews
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER system_accounts_no_delete BEFORE DELETE ON system_accounts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION access_review_doc(a access_reviews) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'reviewer_id', a.reviewer_id,
        'findings_reviewed', a.findings_reviewed, 'decisions', a.decisions,
        'created_at', rfc3339(a.created_at))
$$;
