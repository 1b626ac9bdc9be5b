-- One database, one schema and one login role per service (architecture,
-- invariant 1). Run by a PostgreSQL superuser, connected to the itgov
-- database, with psql variables holding each role's password:
--   psql -v ON_ERROR_STOP=1 -v accounts_pw=... -v projects_pw=... \
--        -v approvals_pw=... -v audit_pw=... -f deploy/db/init.sql
-- Idempotent: running it again only resets the passwords.
\set ON_ERROR_STOP on
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY['accounts','projects','approvals','audit']) r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE accounts PASSWORD :'accounts_pw';
ALTER ROLE projects PASSWORD :'projects_pw';
ALTER ROLE approvals PASSWORD :'approvals_pw';
ALTER ROLE audit PASSWORD :'audit_pw';

SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', r, r),
       format('ALTER ROLE %I SET search_path = %I', r, r),
       format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', r)
  FROM unnest(ARRAY['accounts','projects','approvals','audit']) r \gexec
