-- Wake-up only: listeners are told that domain events were committed; they then read the rows
-- by id (see DESIGN.md, Data flow). One notification per statement, delivered at commit.
CREATE OR REPLACE FUNCTION pshub_notify_domain_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pshub_domain_event', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS domain_event_notify ON domain_event;
--> statement-breakpoint
CREATE TRIGGER domain_event_notify
  AFTER INSERT ON domain_event
  FOR EACH STATEMENT EXECUTE FUNCTION pshub_notify_domain_event();
