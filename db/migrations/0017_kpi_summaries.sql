CREATE TABLE "kpi_invoice_cycle" (
	"invoice_id" uuid PRIMARY KEY NOT NULL,
	"generated_at" timestamp with time zone,
	"issued_at" timestamp with time zone,
	"posted_at" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"approved_at" timestamp with time zone,
	"billed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "kpi_time_month" (
	"project_id" uuid NOT NULL,
	"month" date NOT NULL,
	"status" "work_status" NOT NULL,
	"billable" boolean NOT NULL,
	"entries" integer NOT NULL,
	"hours" numeric(14, 2) NOT NULL,
	CONSTRAINT "kpi_time_month_project_id_month_status_billable_pk" PRIMARY KEY("project_id","month","status","billable")
);
--> statement-breakpoint
CREATE INDEX "billing_event_ready_idx" ON "billing_event" USING btree ("contract_id") WHERE "billing_event"."status" = 'READY';--> statement-breakpoint
-- KPI summaries (issue #12): kept by statement-level triggers with transition tables, in the
-- transaction of the change to their sources, so every writer (lifecycle operations, inbound
-- applies, seeds, hand-written SQL) keeps them exact and a reader never sees a summary that
-- disagrees with the rows it summarises. Why this is correct under concurrency:
-- - kpi_time_month holds counts and sums: each statement adds its delta with INSERT … ON CONFLICT
--   DO UPDATE SET x = x + delta. The upsert locks the summary row and applies the delta to its
--   latest committed version, so concurrent deltas add up in any order (a commutative update);
--   deltas are applied in key order, so two statements lock shared rows in the same order.
-- - kpi_invoice_cycle's event instants are minima: least(old, new) commutes the same way.
-- - Its line figures (earliest approval and billing of the live lines) are recomputed for the
--   touched invoices from the statement's snapshot: the lines of one invoice change only under its
--   row lock (generateInvoice creates it, voidInvoice locks it), so the later writer's statement
--   starts after the earlier one committed and sees its lines.
CREATE OR REPLACE FUNCTION pshub_kpi_time_month_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only the transition tables of the trigger's event exist: each branch reads its own.
  IF TG_OP = 'INSERT' THEN
    INSERT INTO kpi_time_month AS k (project_id, month, status, billable, entries, hours)
      SELECT project_id, month, status, billable, sum(n)::int, sum(h) FROM (SELECT project_id, date_trunc('month', work_date)::date AS month, status, billable, 1 AS n, hours AS h FROM new_rows) d
       GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(h) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, month, status, billable)
      DO UPDATE SET entries = k.entries + excluded.entries, hours = k.hours + excluded.hours;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO kpi_time_month AS k (project_id, month, status, billable, entries, hours)
      SELECT project_id, month, status, billable, sum(n)::int, sum(h) FROM (SELECT project_id, date_trunc('month', work_date)::date AS month, status, billable, -1 AS n, -hours AS h FROM old_rows) d
       GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(h) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, month, status, billable)
      DO UPDATE SET entries = k.entries + excluded.entries, hours = k.hours + excluded.hours;
  ELSE
    -- An update that moves no hours between keys (a version bump, an approval note) nets to zero
    -- and touches no summary row.
    INSERT INTO kpi_time_month AS k (project_id, month, status, billable, entries, hours)
      SELECT project_id, month, status, billable, sum(n)::int, sum(h) FROM (SELECT project_id, date_trunc('month', work_date)::date AS month, status, billable, 1 AS n, hours AS h FROM new_rows UNION ALL SELECT project_id, date_trunc('month', work_date)::date AS month, status, billable, -1 AS n, -hours AS h FROM old_rows) d
       GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(h) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, month, status, billable)
      DO UPDATE SET entries = k.entries + excluded.entries, hours = k.hours + excluded.hours;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pshub_kpi_time_month_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- DELETE, not TRUNCATE: a TRUNCATE of both tables in one statement (a demo reset) is then fine.
  DELETE FROM kpi_time_month;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER kpi_time_month_insert AFTER INSERT ON time_entry REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_time_month_apply();
--> statement-breakpoint
CREATE TRIGGER kpi_time_month_update AFTER UPDATE ON time_entry
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_time_month_apply();
--> statement-breakpoint
CREATE TRIGGER kpi_time_month_delete AFTER DELETE ON time_entry REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_time_month_apply();
--> statement-breakpoint
CREATE TRIGGER kpi_time_month_truncate AFTER TRUNCATE ON time_entry
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_time_month_truncate();
--> statement-breakpoint
-- The live lines' earliest approval (of the billed time entry, expense or milestone) and earliest
-- billing event, recomputed for the given invoices.
CREATE OR REPLACE FUNCTION pshub_kpi_invoice_cycle_lines(invoice_ids uuid[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO kpi_invoice_cycle AS k (invoice_id, approved_at, billed_at)
  SELECT i.id, a.approved, a.billed
    FROM (SELECT DISTINCT x AS id FROM unnest(invoice_ids) AS x WHERE x IS NOT NULL) i
    CROSS JOIN LATERAL (
      SELECT min(coalesce(te.approved_at, e.approved_at, m.approved_at)) AS approved,
             min(be.created_at) AS billed
        FROM invoice_line l
        JOIN billing_event be ON be.id = l.billing_event_id
        LEFT JOIN time_entry te ON be.source_type = 'TIME' AND te.id = be.source_id
        LEFT JOIN expense e ON be.source_type = 'EXPENSE' AND e.id = be.source_id
        LEFT JOIN milestone m ON be.source_type = 'MILESTONE' AND m.id = be.source_id
       WHERE l.invoice_id = i.id AND l.voided_at IS NULL) a
   ORDER BY i.id
  ON CONFLICT (invoice_id) DO UPDATE SET approved_at = excluded.approved_at, billed_at = excluded.billed_at
   WHERE k.approved_at IS DISTINCT FROM excluded.approved_at OR k.billed_at IS DISTINCT FROM excluded.billed_at;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pshub_kpi_invoice_cycle_line_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM pshub_kpi_invoice_cycle_lines(ARRAY(SELECT invoice_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pshub_kpi_invoice_cycle_lines(ARRAY(SELECT invoice_id FROM old_rows));
  ELSE
    PERFORM pshub_kpi_invoice_cycle_lines(ARRAY(SELECT invoice_id FROM new_rows
      UNION SELECT invoice_id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_line_insert AFTER INSERT ON invoice_line REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_line_rows();
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_line_update AFTER UPDATE ON invoice_line
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_line_rows();
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_line_delete AFTER DELETE ON invoice_line REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_line_rows();
--> statement-breakpoint
-- An invoiced item whose approval instant changes (TG_ARGV[0]: its billing source type).
CREATE OR REPLACE FUNCTION pshub_kpi_invoice_cycle_approvals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid[];
BEGIN
  SELECT array_agg(n.id) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
   WHERE o.approved_at IS DISTINCT FROM n.approved_at;
  IF changed IS NOT NULL THEN
    PERFORM pshub_kpi_invoice_cycle_lines(ARRAY(
      SELECT l.invoice_id FROM billing_event be JOIN invoice_line l ON l.billing_event_id = be.id
       WHERE be.source_type = TG_ARGV[0]::billing_source_type AND be.source_id = ANY (changed)));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_time_entry AFTER UPDATE ON time_entry
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_approvals('TIME');
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_expense AFTER UPDATE ON expense
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_approvals('EXPENSE');
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_milestone AFTER UPDATE ON milestone
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_approvals('MILESTONE');
--> statement-breakpoint
-- First invoice.created and first change to ISSUED / POSTED / PAID per invoice (domain_event is
-- append-only: minima only ever move earlier).
CREATE OR REPLACE FUNCTION pshub_kpi_invoice_cycle_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO kpi_invoice_cycle AS k (invoice_id, generated_at, issued_at, posted_at, paid_at)
  SELECT entity_id,
         min(occurred_at) FILTER (WHERE type = 'invoice.created'),
         min(occurred_at) FILTER (WHERE type = 'invoice.status_changed' AND payload->>'to' = 'ISSUED'),
         min(occurred_at) FILTER (WHERE type = 'invoice.status_changed' AND payload->>'to' = 'POSTED'),
         min(occurred_at) FILTER (WHERE type = 'invoice.status_changed' AND payload->>'to' = 'PAID')
    FROM new_rows
   WHERE entity_type = 'invoice' AND (type = 'invoice.created'
      OR (type = 'invoice.status_changed' AND payload->>'to' IN ('ISSUED', 'POSTED', 'PAID')))
   GROUP BY entity_id ORDER BY entity_id
  ON CONFLICT (invoice_id) DO UPDATE SET
    generated_at = least(k.generated_at, excluded.generated_at),
    issued_at = least(k.issued_at, excluded.issued_at),
    posted_at = least(k.posted_at, excluded.posted_at),
    paid_at = least(k.paid_at, excluded.paid_at);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_events AFTER INSERT ON domain_event REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_events();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pshub_kpi_invoice_cycle_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'domain_event' THEN
    UPDATE kpi_invoice_cycle SET generated_at = NULL, issued_at = NULL, posted_at = NULL, paid_at = NULL;
  ELSE
    UPDATE kpi_invoice_cycle SET approved_at = NULL, billed_at = NULL;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_events_truncate AFTER TRUNCATE ON domain_event
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_truncate();
--> statement-breakpoint
CREATE TRIGGER kpi_invoice_cycle_lines_truncate AFTER TRUNCATE ON invoice_line
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_kpi_invoice_cycle_truncate();
--> statement-breakpoint
-- ALWAYS: also under session_replication_role = replica (the seed's bulk load, logical
-- replication): a summary follows every write to its sources, whoever makes it.
ALTER TABLE time_entry ENABLE ALWAYS TRIGGER kpi_time_month_insert;
--> statement-breakpoint
ALTER TABLE time_entry ENABLE ALWAYS TRIGGER kpi_time_month_update;
--> statement-breakpoint
ALTER TABLE time_entry ENABLE ALWAYS TRIGGER kpi_time_month_delete;
--> statement-breakpoint
ALTER TABLE time_entry ENABLE ALWAYS TRIGGER kpi_time_month_truncate;
--> statement-breakpoint
ALTER TABLE invoice_line ENABLE ALWAYS TRIGGER kpi_invoice_cycle_line_insert;
--> statement-breakpoint
ALTER TABLE invoice_line ENABLE ALWAYS TRIGGER kpi_invoice_cycle_line_update;
--> statement-breakpoint
ALTER TABLE invoice_line ENABLE ALWAYS TRIGGER kpi_invoice_cycle_line_delete;
--> statement-breakpoint
ALTER TABLE time_entry ENABLE ALWAYS TRIGGER kpi_invoice_cycle_time_entry;
--> statement-breakpoint
ALTER TABLE expense ENABLE ALWAYS TRIGGER kpi_invoice_cycle_expense;
--> statement-breakpoint
ALTER TABLE milestone ENABLE ALWAYS TRIGGER kpi_invoice_cycle_milestone;
--> statement-breakpoint
ALTER TABLE domain_event ENABLE ALWAYS TRIGGER kpi_invoice_cycle_events;
--> statement-breakpoint
ALTER TABLE domain_event ENABLE ALWAYS TRIGGER kpi_invoice_cycle_events_truncate;
--> statement-breakpoint
ALTER TABLE invoice_line ENABLE ALWAYS TRIGGER kpi_invoice_cycle_lines_truncate;
--> statement-breakpoint
-- The rows already there (the triggers above hold their tables' locks until this commits).
INSERT INTO kpi_time_month (project_id, month, status, billable, entries, hours)
SELECT project_id, date_trunc('month', work_date)::date, status, billable, count(*)::int, sum(hours)
  FROM time_entry GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
INSERT INTO kpi_invoice_cycle (invoice_id, generated_at, issued_at, posted_at, paid_at)
SELECT entity_id,
       min(occurred_at) FILTER (WHERE type = 'invoice.created'),
       min(occurred_at) FILTER (WHERE type = 'invoice.status_changed' AND payload->>'to' = 'ISSUED'),
       min(occurred_at) FILTER (WHERE type = 'invoice.status_changed' AND payload->>'to' = 'POSTED'),
       min(occurred_at) FILTER (WHERE type = 'invoice.status_changed' AND payload->>'to' = 'PAID')
  FROM domain_event
 WHERE entity_type = 'invoice' AND (type = 'invoice.created'
    OR (type = 'invoice.status_changed' AND payload->>'to' IN ('ISSUED', 'POSTED', 'PAID')))
 GROUP BY entity_id;
--> statement-breakpoint
SELECT pshub_kpi_invoice_cycle_lines(ARRAY(SELECT DISTINCT invoice_id FROM invoice_line));
