#!/bin/sh
# Two roles: civic_owner owns the schema and runs migrations; civic_app is what the
# application connects as — an ordinary role, subject to row-level security.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE civic_owner LOGIN PASSWORD '${CIVIC_OWNER_PASSWORD}' NOSUPERUSER NOBYPASSRLS;
CREATE ROLE civic_app LOGIN PASSWORD '${CIVIC_APP_PASSWORD}' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE civic_relay OWNER civic_owner;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname civic_relay <<SQL
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO civic_owner;
SQL
