-- accounts: departments and users. Sessions live in Redis (cache only).
CREATE TABLE departments (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('department', 'it_office', 'external')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT departments_code_key UNIQUE (code)
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL,
    display_name  text NOT NULL,
    employee_id   text NOT NULL,
    department_id bigint NOT NULL CONSTRAINT users_department_id_fkey REFERENCES departments (id),
    roles         text[] NOT NULL,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
-- one person, one account
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_employee_id_key ON users (employee_id);

-- session ids are allocated here so they never repeat, even if Redis is wiped
CREATE SEQUENCE session_ids;

-- nothing is ever deleted (architecture, invariant 6; refuse_delete() comes with
-- the shared base migration, shared/src/outbox.c)
CREATE TRIGGER departments_no_delete BEFORE DELETE ON departments
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER users_no_delete BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- the public JSON of each resource: the only shape that leaves this schema
CREATE FUNCTION department_doc(d departments) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', d.id, 'code', d.code, 'name', d.name, 'kind', d.kind,
        'created_at', rfc3339(d.created_at), 'updated_at', rfc3339(d.updated_at))
$$;
CREATE FUNCTION user_doc(u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'username', u.username,
        'display_name', u.display_name, 'employee_id', u.employee_id,
        'department_id', u.department_id, 'roles', to_jsonb(u.roles),
        'disabled', u.disabled, 'created_at', rfc3339(u.created_at),
        'updated_at', rfc3339(u.updated_at), 'last_login_at', rfc3339(u.last_login_at))
$$;

-- the IT office exists from the first start
WITH d AS (
    INSERT INTO departments (code, name, kind)
    VALUES ('ITO', '节能与信息化办公室', 'it_office') RETURNING *)
SELECT emit('itgov.account.department.created', 'departments/' || d.id, NULL, department_doc(d))
  FROM d;
