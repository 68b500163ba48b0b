CREATE TYPE "public"."billing_event_status" AS ENUM('READY', 'INVOICED', 'VOID');--> statement-breakpoint
CREATE TYPE "public"."billing_model" AS ENUM('TIME_AND_MATERIALS', 'FIXED_FEE', 'RETAINER', 'MILESTONE');--> statement-breakpoint
CREATE TYPE "public"."billing_source_type" AS ENUM('TIME', 'EXPENSE', 'MILESTONE', 'FIXED_FEE', 'RETAINER');--> statement-breakpoint
CREATE TYPE "public"."command_state" AS ENUM('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');--> statement-breakpoint
CREATE TYPE "public"."contract_status" AS ENUM('DRAFT', 'ACTIVE', 'COMPLETED', 'TERMINATED');--> statement-breakpoint
CREATE TYPE "public"."customer_status" AS ENUM('ACTIVE', 'ON_HOLD', 'INACTIVE');--> statement-breakpoint
CREATE TYPE "public"."dispute_status" AS ENUM('OPEN', 'RESOLVED');--> statement-breakpoint
CREATE TYPE "public"."exception_owner" AS ENUM('FINANCE', 'PROJECT_OPS', 'SALES_OPS', 'INTEGRATION');--> statement-breakpoint
CREATE TYPE "public"."exception_severity" AS ENUM('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');--> statement-breakpoint
CREATE TYPE "public"."exception_status" AS ENUM('OPEN', 'RETRYING', 'RESOLVED', 'IGNORED');--> statement-breakpoint
CREATE TYPE "public"."external_system" AS ENUM('SALESFORCE', 'PSA', 'ERP');--> statement-breakpoint
CREATE TYPE "public"."fee_schedule_status" AS ENUM('SCHEDULED', 'BILLED');--> statement-breakpoint
CREATE TYPE "public"."inbox_status" AS ENUM('RECEIVED', 'APPLIED', 'SKIPPED', 'FAILED');--> statement-breakpoint
CREATE TYPE "public"."invoice_status" AS ENUM('DRAFT', 'ISSUED', 'POSTED', 'PARTIALLY_PAID', 'PAID', 'DISPUTED', 'VOID');--> statement-breakpoint
CREATE TYPE "public"."milestone_status" AS ENUM('OPEN', 'COMPLETED', 'APPROVED', 'BILLED');--> statement-breakpoint
CREATE TYPE "public"."opportunity_stage" AS ENUM('PROSPECTING', 'QUALIFICATION', 'PROPOSAL', 'NEGOTIATION', 'CLOSED_WON', 'CLOSED_LOST');--> statement-breakpoint
CREATE TYPE "public"."project_status" AS ENUM('PLANNED', 'ACTIVE', 'ON_HOLD', 'COMPLETED', 'CLOSED');--> statement-breakpoint
CREATE TYPE "public"."work_status" AS ENUM('SUBMITTED', 'APPROVED', 'REJECTED', 'BILLED');--> statement-breakpoint
CREATE SEQUENCE "public"."invoice_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1000 CACHE 1;--> statement-breakpoint
CREATE TABLE "assignment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"resource_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"role" text NOT NULL,
	"bill_rate_override" numeric(18, 2),
	"start_date" date,
	"end_date" date
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"operation" text NOT NULL,
	"entity_type" text,
	"entity_id" uuid,
	"input" jsonb,
	"outcome" text NOT NULL,
	"correlation_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_event" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"contract_id" uuid NOT NULL,
	"project_id" uuid,
	"customer_id" uuid NOT NULL,
	"source_type" "billing_source_type" NOT NULL,
	"source_id" uuid NOT NULL,
	"period" text DEFAULT '' NOT NULL,
	"description" text NOT NULL,
	"quantity" numeric(12, 2) NOT NULL,
	"rate" numeric(18, 2) NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"status" "billing_event_status" DEFAULT 'READY' NOT NULL,
	"correlation_id" uuid,
	CONSTRAINT "billing_event_currency_iso" CHECK ("billing_event"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "contact" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"customer_id" uuid NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"phone" text,
	"title" text,
	"is_billing_contact" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contract" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"number" text NOT NULL,
	"customer_id" uuid NOT NULL,
	"opportunity_id" uuid,
	"legal_entity_id" uuid NOT NULL,
	"billing_model" "billing_model" NOT NULL,
	"total_value" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"retainer_amount" numeric(18, 2),
	"retainer_hours" numeric(12, 2),
	"start_date" date NOT NULL,
	"end_date" date,
	"payment_terms_days" integer DEFAULT 30 NOT NULL,
	"status" "contract_status" DEFAULT 'DRAFT' NOT NULL,
	"correlation_id" uuid,
	CONSTRAINT "contract_total_nonnegative" CHECK ("contract"."total_value" >= 0),
	CONSTRAINT "contract_payment_terms" CHECK ("contract"."payment_terms_days" between 0 and 365),
	CONSTRAINT "contract_retainer_terms" CHECK ("contract"."billing_model" <> 'RETAINER' or ("contract"."retainer_amount" is not null and "contract"."retainer_hours" is not null)),
	CONSTRAINT "contract_dates" CHECK ("contract"."end_date" is null or "contract"."end_date" >= "contract"."start_date"),
	CONSTRAINT "contract_currency_iso" CHECK ("contract"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "customer" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"name" text NOT NULL,
	"parent_id" uuid,
	"legal_entity_id" uuid,
	"tax_jurisdiction" text,
	"currency" char(3) NOT NULL,
	"billing_contact_name" text,
	"billing_email" text,
	"status" "customer_status" DEFAULT 'ACTIVE' NOT NULL,
	CONSTRAINT "customer_not_own_parent" CHECK ("customer"."parent_id" is distinct from "customer"."id"),
	CONSTRAINT "customer_currency_iso" CHECK ("customer"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "dispute" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"invoice_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"opened_by" text NOT NULL,
	"resolution" text,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"status" "dispute_status" DEFAULT 'OPEN' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "domain_event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"correlation_id" uuid,
	"causation_id" text,
	"actor" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "expense" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"project_id" uuid NOT NULL,
	"resource_id" uuid NOT NULL,
	"incurred_on" date NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"category" text NOT NULL,
	"billable" boolean DEFAULT true NOT NULL,
	"description" text,
	"status" "work_status" DEFAULT 'SUBMITTED' NOT NULL,
	"approved_at" timestamp with time zone,
	"approved_by" text,
	CONSTRAINT "expense_amount_positive" CHECK ("expense"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "fee_schedule_item" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"contract_id" uuid NOT NULL,
	"description" text NOT NULL,
	"due_date" date NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"status" "fee_schedule_status" DEFAULT 'SCHEDULED' NOT NULL,
	CONSTRAINT "fee_schedule_item_amount_positive" CHECK ("fee_schedule_item"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "idempotency_key" (
	"key" text NOT NULL,
	"principal" text NOT NULL,
	"operation" text NOT NULL,
	"request_hash" text NOT NULL,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inbox_event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"object" text NOT NULL,
	"external_id" text,
	"payload" jsonb NOT NULL,
	"status" "inbox_status" DEFAULT 'RECEIVED' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "invoice" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"number" text NOT NULL,
	"customer_id" uuid NOT NULL,
	"contract_id" uuid NOT NULL,
	"legal_entity_id" uuid NOT NULL,
	"currency" char(3) NOT NULL,
	"period_end" date,
	"subtotal" numeric(18, 2) DEFAULT '0' NOT NULL,
	"tax_rate" numeric(7, 4) DEFAULT '0' NOT NULL,
	"tax" numeric(18, 2) DEFAULT '0' NOT NULL,
	"total" numeric(18, 2) DEFAULT '0' NOT NULL,
	"amount_paid" numeric(18, 2) DEFAULT '0' NOT NULL,
	"issued_on" date,
	"due_on" date,
	"posted_at" timestamp with time zone,
	"erp_number" text,
	"status" "invoice_status" DEFAULT 'DRAFT' NOT NULL,
	"correlation_id" uuid,
	CONSTRAINT "invoice_total_is_sum" CHECK ("invoice"."total" = "invoice"."subtotal" + "invoice"."tax"),
	CONSTRAINT "invoice_paid_range" CHECK ("invoice"."amount_paid" >= 0 and "invoice"."amount_paid" <= "invoice"."total"),
	CONSTRAINT "invoice_currency_iso" CHECK ("invoice"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "invoice_line" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"invoice_id" uuid NOT NULL,
	"billing_event_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"description" text NOT NULL,
	"quantity" numeric(12, 2) NOT NULL,
	"unit_price" numeric(18, 2) NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"voided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "legal_entity" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"country" char(2) NOT NULL,
	"currency" char(3) NOT NULL,
	"tax_jurisdiction" text NOT NULL,
	"invoice_prefix" text NOT NULL,
	CONSTRAINT "legal_entity_currency_iso" CHECK ("legal_entity"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "milestone" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"due_date" date NOT NULL,
	"completed_on" date,
	"approved_at" timestamp with time zone,
	"approved_by" text,
	"status" "milestone_status" DEFAULT 'OPEN' NOT NULL,
	CONSTRAINT "milestone_amount_nonnegative" CHECK ("milestone"."amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "opportunity" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"customer_id" uuid NOT NULL,
	"name" text NOT NULL,
	"stage" "opportunity_stage" NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"close_date" date NOT NULL,
	"billing_model" "billing_model",
	"is_won" boolean DEFAULT false NOT NULL,
	"converted_at" timestamp with time zone,
	"legal_entity_id" uuid,
	"start_date" date,
	"end_date" date,
	"payment_terms_days" integer,
	"retainer_amount" numeric(18, 2),
	"retainer_hours" numeric(12, 2),
	"budget_hours" numeric(12, 2),
	"installments" integer,
	CONSTRAINT "opportunity_amount_nonnegative" CHECK ("opportunity"."amount" >= 0),
	CONSTRAINT "opportunity_won_is_closed_won" CHECK (("opportunity"."is_won" = false) or ("opportunity"."stage" = 'CLOSED_WON')),
	CONSTRAINT "opportunity_currency_iso" CHECK ("opportunity"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "outbound_command" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"target" "external_system" NOT NULL,
	"kind" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" "command_state" DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 10 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_at" timestamp with time zone,
	"locked_by" text,
	"last_error" text,
	"result" jsonb,
	"correlation_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"invoice_id" uuid NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"received_on" date NOT NULL,
	"reference" text,
	"erp_id" text,
	"correlation_id" uuid,
	CONSTRAINT "payment_amount_positive" CHECK ("payment"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "project" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"contract_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"budget_hours" numeric(12, 2),
	"budget_amount" numeric(18, 2),
	"currency" char(3) NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date,
	"status" "project_status" DEFAULT 'PLANNED' NOT NULL,
	"correlation_id" uuid,
	CONSTRAINT "project_currency_iso" CHECK ("project"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "resource" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"legal_entity_id" uuid,
	"bill_rate" numeric(18, 2) NOT NULL,
	"cost_rate" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	CONSTRAINT "resource_rates_nonnegative" CHECK ("resource"."bill_rate" >= 0 and "resource"."cost_rate" >= 0)
);
--> statement-breakpoint
CREATE TABLE "source_link" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"system" "external_system" NOT NULL,
	"object" text NOT NULL,
	"external_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_cursor" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connector" text NOT NULL,
	"object" text NOT NULL,
	"cursor" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_success_at" timestamp with time zone,
	"last_error_at" timestamp with time zone,
	"last_error" text,
	"lag_ms" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_exception" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner" "exception_owner" NOT NULL,
	"severity" "exception_severity" DEFAULT 'MEDIUM' NOT NULL,
	"code" text NOT NULL,
	"entity_type" text,
	"entity_id" uuid,
	"source_system" "external_system",
	"source_ref" text,
	"inbox_event_id" integer,
	"command_id" uuid,
	"message" text NOT NULL,
	"remediation" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" "exception_status" DEFAULT 'OPEN' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"resolved_by" text,
	"resolved_at" timestamp with time zone,
	"resolution_note" text,
	"correlation_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tax_rate" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"jurisdiction" text NOT NULL,
	"rate" numeric(7, 4) NOT NULL,
	"valid_from" date NOT NULL,
	CONSTRAINT "tax_rate_range" CHECK ("tax_rate"."rate" >= 0 and "tax_rate"."rate" < 1)
);
--> statement-breakpoint
CREATE TABLE "time_entry" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"project_id" uuid NOT NULL,
	"resource_id" uuid NOT NULL,
	"work_date" date NOT NULL,
	"hours" numeric(12, 2) NOT NULL,
	"billable" boolean DEFAULT true NOT NULL,
	"bill_rate" numeric(18, 2) NOT NULL,
	"currency" char(3) NOT NULL,
	"description" text,
	"status" "work_status" DEFAULT 'SUBMITTED' NOT NULL,
	"approved_at" timestamp with time zone,
	"approved_by" text,
	CONSTRAINT "time_entry_hours_range" CHECK ("time_entry"."hours" > 0 and "time_entry"."hours" <= 24),
	CONSTRAINT "time_entry_rate_nonnegative" CHECK ("time_entry"."bill_rate" >= 0)
);
--> statement-breakpoint
ALTER TABLE "assignment" ADD CONSTRAINT "assignment_resource_id_resource_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resource"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignment" ADD CONSTRAINT "assignment_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_event" ADD CONSTRAINT "billing_event_contract_id_contract_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contract"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_event" ADD CONSTRAINT "billing_event_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_event" ADD CONSTRAINT "billing_event_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact" ADD CONSTRAINT "contact_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract" ADD CONSTRAINT "contract_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract" ADD CONSTRAINT "contract_opportunity_id_opportunity_id_fk" FOREIGN KEY ("opportunity_id") REFERENCES "public"."opportunity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract" ADD CONSTRAINT "contract_legal_entity_id_legal_entity_id_fk" FOREIGN KEY ("legal_entity_id") REFERENCES "public"."legal_entity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer" ADD CONSTRAINT "customer_parent_id_customer_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer" ADD CONSTRAINT "customer_legal_entity_id_legal_entity_id_fk" FOREIGN KEY ("legal_entity_id") REFERENCES "public"."legal_entity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_invoice_id_invoice_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoice"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expense" ADD CONSTRAINT "expense_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expense" ADD CONSTRAINT "expense_resource_id_resource_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resource"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fee_schedule_item" ADD CONSTRAINT "fee_schedule_item_contract_id_contract_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contract"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice" ADD CONSTRAINT "invoice_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice" ADD CONSTRAINT "invoice_contract_id_contract_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contract"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice" ADD CONSTRAINT "invoice_legal_entity_id_legal_entity_id_fk" FOREIGN KEY ("legal_entity_id") REFERENCES "public"."legal_entity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice_line" ADD CONSTRAINT "invoice_line_invoice_id_invoice_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoice"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice_line" ADD CONSTRAINT "invoice_line_billing_event_id_billing_event_id_fk" FOREIGN KEY ("billing_event_id") REFERENCES "public"."billing_event"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "milestone" ADD CONSTRAINT "milestone_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunity" ADD CONSTRAINT "opportunity_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunity" ADD CONSTRAINT "opportunity_legal_entity_id_legal_entity_id_fk" FOREIGN KEY ("legal_entity_id") REFERENCES "public"."legal_entity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment" ADD CONSTRAINT "payment_invoice_id_invoice_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoice"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_contract_id_contract_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contract"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resource" ADD CONSTRAINT "resource_legal_entity_id_legal_entity_id_fk" FOREIGN KEY ("legal_entity_id") REFERENCES "public"."legal_entity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "time_entry" ADD CONSTRAINT "time_entry_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "time_entry" ADD CONSTRAINT "time_entry_resource_id_resource_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resource"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assignment_resource_project_key" ON "assignment" USING btree ("resource_id","project_id");--> statement-breakpoint
CREATE INDEX "assignment_project_id_idx" ON "assignment" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "audit_log" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_event_source_period_key" ON "billing_event" USING btree ("source_type","source_id","period");--> statement-breakpoint
CREATE INDEX "billing_event_contract_status_idx" ON "billing_event" USING btree ("contract_id","status");--> statement-breakpoint
CREATE INDEX "billing_event_project_id_idx" ON "billing_event" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "billing_event_customer_id_idx" ON "billing_event" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "contact_customer_id_idx" ON "contact" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "contract_number_key" ON "contract" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "contract_opportunity_id_key" ON "contract" USING btree ("opportunity_id");--> statement-breakpoint
CREATE INDEX "contract_customer_id_idx" ON "contract" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "customer_parent_id_idx" ON "customer" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "customer_legal_entity_id_idx" ON "customer" USING btree ("legal_entity_id");--> statement-breakpoint
CREATE INDEX "dispute_invoice_id_idx" ON "dispute" USING btree ("invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "dispute_open_per_invoice_key" ON "dispute" USING btree ("invoice_id") WHERE "dispute"."status" = 'OPEN';--> statement-breakpoint
CREATE INDEX "domain_event_entity_idx" ON "domain_event" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "domain_event_correlation_id_idx" ON "domain_event" USING btree ("correlation_id");--> statement-breakpoint
CREATE INDEX "domain_event_type_idx" ON "domain_event" USING btree ("type");--> statement-breakpoint
CREATE INDEX "expense_project_status_idx" ON "expense" USING btree ("project_id","status");--> statement-breakpoint
CREATE INDEX "fee_schedule_item_contract_id_idx" ON "fee_schedule_item" USING btree ("contract_id");--> statement-breakpoint
CREATE UNIQUE INDEX "idempotency_key_principal_key" ON "idempotency_key" USING btree ("principal","key");--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_event_source_dedupe_key" ON "inbox_event" USING btree ("source","dedupe_key");--> statement-breakpoint
CREATE INDEX "inbox_event_status_idx" ON "inbox_event" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_number_key" ON "invoice" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_erp_number_key" ON "invoice" USING btree ("erp_number");--> statement-breakpoint
CREATE INDEX "invoice_customer_id_idx" ON "invoice" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "invoice_contract_id_idx" ON "invoice" USING btree ("contract_id");--> statement-breakpoint
CREATE INDEX "invoice_status_idx" ON "invoice" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_line_billing_event_live_key" ON "invoice_line" USING btree ("billing_event_id") WHERE "invoice_line"."voided_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_line_invoice_line_no_key" ON "invoice_line" USING btree ("invoice_id","line_no");--> statement-breakpoint
CREATE UNIQUE INDEX "legal_entity_code_key" ON "legal_entity" USING btree ("code");--> statement-breakpoint
CREATE INDEX "milestone_project_id_idx" ON "milestone" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "opportunity_customer_id_idx" ON "opportunity" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "opportunity_stage_idx" ON "opportunity" USING btree ("stage");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_command_idempotency_key" ON "outbound_command" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "outbound_command_ready_idx" ON "outbound_command" USING btree ("next_attempt_at") WHERE "outbound_command"."state" = 'PENDING';--> statement-breakpoint
CREATE UNIQUE INDEX "payment_erp_id_key" ON "payment" USING btree ("erp_id");--> statement-breakpoint
CREATE INDEX "payment_invoice_id_idx" ON "payment" USING btree ("invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "project_code_key" ON "project" USING btree ("code");--> statement-breakpoint
CREATE INDEX "project_contract_id_idx" ON "project" USING btree ("contract_id");--> statement-breakpoint
CREATE INDEX "project_customer_id_idx" ON "project" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "resource_email_key" ON "resource" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "source_link_entity_system_key" ON "source_link" USING btree ("entity_type","entity_id","system");--> statement-breakpoint
CREATE UNIQUE INDEX "source_link_external_key" ON "source_link" USING btree ("system","object","external_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_cursor_connector_object_key" ON "sync_cursor" USING btree ("connector","object");--> statement-breakpoint
CREATE INDEX "sync_exception_owner_status_idx" ON "sync_exception" USING btree ("owner","status");--> statement-breakpoint
CREATE INDEX "sync_exception_entity_idx" ON "sync_exception" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tax_rate_jurisdiction_valid_from_key" ON "tax_rate" USING btree ("jurisdiction","valid_from");--> statement-breakpoint
CREATE INDEX "time_entry_project_status_idx" ON "time_entry" USING btree ("project_id","status");--> statement-breakpoint
CREATE INDEX "time_entry_resource_id_idx" ON "time_entry" USING btree ("resource_id");--> statement-breakpoint
CREATE INDEX "time_entry_work_date_idx" ON "time_entry" USING btree ("work_date");