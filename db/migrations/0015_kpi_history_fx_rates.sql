CREATE TABLE "fx_rate" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"base_currency" char(3) NOT NULL,
	"currency" char(3) NOT NULL,
	"rate" numeric(24, 10) NOT NULL,
	"effective_date" date NOT NULL,
	"source" text NOT NULL,
	"external_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fx_rate_positive" CHECK ("fx_rate"."rate" > 0),
	CONSTRAINT "fx_rate_source" CHECK ("fx_rate"."source" in ('ERP', 'FILE')),
	CONSTRAINT "fx_rate_base_currency_iso" CHECK ("fx_rate"."base_currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "fx_rate_currency_iso" CHECK ("fx_rate"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "sync_lag_sample" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connector" text NOT NULL,
	"object" text NOT NULL,
	"lag_ms" integer NOT NULL,
	"sampled_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "fx_rate_pair_date_key" ON "fx_rate" USING btree ("base_currency","currency","effective_date");--> statement-breakpoint
CREATE INDEX "sync_lag_sample_object_at_idx" ON "sync_lag_sample" USING btree ("connector","object","sampled_at");--> statement-breakpoint
CREATE INDEX "time_entry_billable_approved_idx" ON "time_entry" USING btree ("project_id","work_date") WHERE "time_entry"."status" = 'APPROVED' and "time_entry"."billable";