CREATE TYPE "public"."resync_state" AS ENUM('PENDING', 'DONE', 'FAILED');--> statement-breakpoint
CREATE TABLE "resync_request" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"system" "external_system" NOT NULL,
	"object" text NOT NULL,
	"external_id" text NOT NULL,
	"requested_by" text NOT NULL,
	"state" "resync_state" DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"result" text,
	"inbox_event_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "system" "external_system";--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "entity_type" text;--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "entity_id" uuid;--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "source_modified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "inbox_event" ADD COLUMN "ignored_fields" text[];--> statement-breakpoint
ALTER TABLE "source_link" ADD COLUMN "source_modified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "records_in" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "records_out" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "error_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "ignored_fields" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "api_budget_used" integer;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "api_budget_limit" integer;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "paused_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "leader" text;--> statement-breakpoint
ALTER TABLE "sync_cursor" ADD COLUMN "last_poll_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "resync_request_pending_idx" ON "resync_request" USING btree ("created_at") WHERE "resync_request"."state" = 'PENDING';--> statement-breakpoint
CREATE INDEX "inbox_event_waiting_for_idx" ON "inbox_event" USING btree ("waiting_for") WHERE "inbox_event"."waiting_for" is not null;--> statement-breakpoint
CREATE INDEX "inbox_event_received_idx" ON "inbox_event" USING btree ("id") WHERE "inbox_event"."status" = 'RECEIVED';