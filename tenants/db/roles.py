"""The two database roles for local development, tests and benchmarks (trust auth).

Production creates them with passwords (README, "Database roles"; deploy/postgres/).
"""

ROLES_SQL = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'civic_owner') THEN
        CREATE ROLE civic_owner LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'civic_app') THEN
        CREATE ROLE civic_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- a concurrent test worker created it first
END
$$;
"""
