-- The inbox keeps each record as the text it was sent (json, not jsonb): nothing queries inside a
-- payload, and parsing every batch into jsonb was most of the Postgres CPU of an inbox write.
-- jsonb → json is an assignment cast (the table is rewritten once).
ALTER TABLE "inbox_event" ALTER COLUMN "payload" SET DATA TYPE json;
