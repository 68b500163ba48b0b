CREATE TYPE "public"."billing_run_status" AS ENUM('INVOICED', 'ISSUED', 'NOTHING_TO_BILL', 'FAILED');--> statement-breakpoint
CREATE TYPE "public"."billing_schedule_kind" AS ENUM('MONTHLY', 'MILESTONE', 'FIXED_FEE_DATES');--> statement-breakpoint
CREATE TABLE "billing_run" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"contract_id" uuid NOT NULL,
	"period" text NOT NULL,
	"kind" "billing_schedule_kind" NOT NULL,
	"period_end" date NOT NULL,
	"status" "billing_run_status" NOT NULL,
	"events_created" integer DEFAULT 0 NOT NULL,
	"invoice_id" uuid,
	"attempts" integer DEFAULT 1 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone,
	"runner" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_schedule" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"contract_id" uuid NOT NULL,
	"kind" "billing_schedule_kind" NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"auto_issue" boolean DEFAULT false NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
ALTER TABLE "billing_run" ADD CONSTRAINT "billing_run_contract_id_contract_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contract"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_run" ADD CONSTRAINT "billing_run_invoice_id_invoice_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoice"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_schedule" ADD CONSTRAINT "billing_schedule_contract_id_contract_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contract"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "billing_run_contract_period_key" ON "billing_run" USING btree ("contract_id","period");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_schedule_contract_id_key" ON "billing_schedule" USING btree ("contract_id");