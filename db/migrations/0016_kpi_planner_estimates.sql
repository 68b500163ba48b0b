-- Planner estimates for the billing-eligibility SQL (db/src/lifecycle/billable.ts), which runBilling,
-- the unbilled totals and the KPIs share.
--
-- pshub_months: the first day of each month from first_day's month to last_day's month. A
-- retainer bills one event per month; generate_series inside a lateral join is estimated at 1000
-- rows per contract, which at scale 40 put the statement's cost above 2 million and made Postgres
-- JIT-compile it (13 s of compilation under load for a 0.4 s query). ROWS 12 is the estimate a
-- plpgsql function keeps (it is never inlined).
CREATE OR REPLACE FUNCTION pshub_months(first_day date, last_day date) RETURNS SETOF date
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE ROWS 12 AS $$
BEGIN
  RETURN QUERY SELECT generate_series(date_trunc('month', first_day)::date,
    date_trunc('month', last_day)::date, interval '1 month')::date;
END
$$;
--> statement-breakpoint
-- Half of the time entries are approved and not billable, and nearly all billable ones are billed:
-- status and billable are far from independent. Without the joint statistics the planner expects
-- 16 times the rows "approved and billable" really has and picks scans for that.
CREATE STATISTICS IF NOT EXISTS time_entry_status_billable_stx (mcv) ON status, billable FROM time_entry;
