CREATE TABLE "deployment_settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "uid" uuid DEFAULT gen_random_uuid() NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "queue_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "relayed_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "checked_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "check_state" text;--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_uid_key" ON "jobs" USING btree ("uid");--> statement-breakpoint
CREATE INDEX "jobs_relayed_idx" ON "jobs" USING btree ("checked_at") WHERE "jobs"."status" = 'relayed';--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_check_state_check" CHECK ("jobs"."check_state" in ('waiting', 'active', 'delayed'));--> statement-breakpoint
-- Jobs relayed before this version sit on Redis under ids and keys that the new workers no longer
-- read (`job-<id>` in the queue without the deployment's namespace): they are relayed again. A job
-- that an old worker runs meanwhile may so run twice, which every handler allows (at least once).
UPDATE "jobs" SET "status" = 'pending', "locked_by" = NULL, "locked_until" = NULL WHERE "status" = 'relayed';
