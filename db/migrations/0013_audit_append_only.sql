-- The audit trail is append-only (issue 9 item 6): UPDATE, DELETE and TRUNCATE on audit_log raise.
-- A trigger rather than REVOKE on a separate role: the services connect as DATABASE_URL's role,
-- which ran the migrations and so owns the table (and is a superuser on a default install); REVOKE
-- does not bind an owner or a superuser, a trigger fires for every role. Only an owner's ALTER
-- TABLE … DISABLE TRIGGER (or DROP) can lift it — a schema change, not something the application
-- does. SQLSTATE 42501 (insufficient_privilege): the application may not, whatever the row.
CREATE OR REPLACE FUNCTION pshub_audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit rows are written once, by the operation that acted';
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION pshub_audit_log_append_only();
--> statement-breakpoint
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_audit_log_append_only();
