CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"event" text NOT NULL,
	"data" jsonb NOT NULL,
	"occurred_at" timestamp (6) with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp (6) with time zone,
	CONSTRAINT "webhook_deliveries_status_check" CHECK ("webhook_deliveries"."status" in ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"description" text,
	"secret" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_webhook_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."webhook_endpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("endpoint_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "webhook_endpoints_live_idx" ON "webhook_endpoints" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "webhook_endpoints"."deleted_at" is null;--> statement-breakpoint
-- Every pool event becomes, in the transaction that records it, one delivery per live endpoint
-- that asked for it, each with its durable job (kind 'webhooks.deliver', see
-- src/modules/webhooks/deliver-webhook.job.ts): a crash right after the commit loses none of them.
-- Pool changes write their audit entries in SQL functions as well as in TypeScript; this trigger
-- sees them all.
CREATE FUNCTION webhooks_enqueue_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_data jsonb;
BEGIN
  -- Most pools have no endpoint: one probe, and the lease's transaction pays nothing more (an
  -- empty INSERT ... SELECT costs an evicting lease about a tenth more; this probe does not).
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE deleted_at IS NULL) THEN
    RETURN NULL;
  END IF;
  v_data := CASE WHEN NEW.target_type = 'token' THEN jsonb_build_object('tokenId', NEW.target_id) ELSE '{}'::jsonb END
            || NEW.metadata;
  -- A new lease's event carries what its answer did: the fence (the lease's id) and the holder's
  -- metadata, so a receiver can fence with it too.
  -- (Never null, whatever the entry says: a failure here would fail the lease itself.)
  IF NEW.action = 'token.leased' AND jsonb_typeof(NEW.metadata->'leaseId') = 'number' THEN
    v_data := (v_data - 'leaseId') || jsonb_build_object('fence', NEW.metadata->'leaseId', 'metadata',
      (SELECT l.metadata FROM token_leases l WHERE l.id = (NEW.metadata->>'leaseId')::bigint));
  END IF;
  WITH delivery AS (
    INSERT INTO webhook_deliveries (endpoint_id, event, data, occurred_at)
    SELECT e.id, NEW.action, v_data, NEW.created_at
      FROM webhook_endpoints e
     WHERE e.deleted_at IS NULL AND NEW.action = ANY (e.events)
    RETURNING id
  )
  INSERT INTO jobs (kind, payload)
  SELECT 'webhooks.deliver', jsonb_build_object('deliveryId', d.id) FROM delivery d;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_webhooks AFTER INSERT ON audit_logs FOR EACH ROW
  WHEN (NEW.action IN ('token.leased', 'token.released', 'token.expired', 'token.evicted', 'tokens.cleared'))
  EXECUTE FUNCTION webhooks_enqueue_deliveries();
