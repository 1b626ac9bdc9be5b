-- the system account register (articles 18-19): the accounts of the
-- governed systems, who holds each and with what privileges. The IT office
-- assigns the back-end administration accounts (backend_admin), the owning
-- department registers the ones it manages (department_managed). An
-- account name is held by one person at a time per system: at most one
-- live (unrevoked) row per name and project. Revoking keeps the row;
-- nothing here is deleted. No credential of a governed system is stored.
CREATE TABLE system_accounts (
    id             bigserial PRIMARY KEY,
    project_id     bigint NOT NULL REFERENCES projects (id),
    account_name   text NOT NULL,
    holder_user_id bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('backend_admin', 'department_managed')),
    privileges     text NOT NULL,
    assigned_at    timestamptz NOT NULL,
    assigned_by    bigint NOT NULL,
    revoked_at     timestamptz,
    revoke_reason  text,
    revoked_by     bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- one holder per live account name (the name of the index names the field
-- of the 409 conflict: account_name)
CREATE UNIQUE INDEX system_accounts_account_name_key ON system_accounts (project_id, account_name)
    WHERE revoked_at IS NULL;
CREATE INDEX system_accounts_project ON system_accounts (project_id, id);
CREATE TRIGGER system_accounts_no_delete BEFORE DELETE ON system_accounts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

CREATE FUNCTION system_account_doc(a system_accounts) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'project_id', a.project_id,
        'account_name', a.account_name, 'holder_user_id', a.holder_user_id, 'kind', a.kind,
        'privileges', a.privileges, 'assigned_at', rfc3339(a.assigned_at),
        'assigned_by', a.assigned_by, 'revoked', a.revoked_at IS NOT NULL,
        'revoked_at', rfc3339(a.revoked_at), 'revoke_reason', a.revoke_reason,
        'revoked_by', a.revoked_by, 'created_at', rfc3339(a.created_at),
        'updated_at', rfc3339(a.updated_at))
$$;
