CREATE TYPE "public"."retainer_proration" AS ENUM('NONE', 'DAILY');--> statement-breakpoint
ALTER TABLE "contract" ADD COLUMN "retainer_proration" "retainer_proration" DEFAULT 'NONE' NOT NULL;--> statement-breakpoint
ALTER TABLE "opportunity" ADD COLUMN "retainer_proration" "retainer_proration";