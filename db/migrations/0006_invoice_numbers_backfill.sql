-- Invoice numbers now come from a per-legal-entity series when an invoice is issued (see
-- invoice_number_series). Existing drafts give back the number generateInvoice used to take, and
-- each entity's series continues after the highest number it has already issued.
UPDATE "invoice" SET "number" = NULL WHERE "status" = 'DRAFT' OR ("status" = 'VOID' AND "issued_on" IS NULL);
--> statement-breakpoint
INSERT INTO "invoice_number_series" ("legal_entity_id", "last_number")
SELECT "legal_entity_id", coalesce(max(substring("number" from '([0-9]+)$')::bigint), 0)::integer
FROM "invoice" WHERE "number" IS NOT NULL
GROUP BY "legal_entity_id"
ON CONFLICT ("legal_entity_id") DO NOTHING;
