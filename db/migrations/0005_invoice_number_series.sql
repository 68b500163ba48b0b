CREATE TABLE "invoice_number_series" (
	"legal_entity_id" uuid PRIMARY KEY NOT NULL,
	"last_number" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invoice_number_series_nonnegative" CHECK ("invoice_number_series"."last_number" >= 0)
);
--> statement-breakpoint
ALTER TABLE "invoice" ALTER COLUMN "number" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "invoice_number_series" ADD CONSTRAINT "invoice_number_series_legal_entity_id_legal_entity_id_fk" FOREIGN KEY ("legal_entity_id") REFERENCES "public"."legal_entity"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
DROP SEQUENCE "public"."invoice_number_seq";