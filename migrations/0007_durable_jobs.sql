CREATE TABLE "jobs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"run_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"locked_until" timestamp (6) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"finished_at" timestamp (6) with time zone,
	CONSTRAINT "jobs_status_check" CHECK ("jobs"."status" in ('pending', 'relayed', 'failed'))
);
--> statement-breakpoint
CREATE INDEX "jobs_due_idx" ON "jobs" USING btree ("run_at","id") WHERE "jobs"."status" = 'pending';--> statement-breakpoint
-- Imports queued before jobs were durable had their job only in a queue: give each one its row.
INSERT INTO "jobs" ("kind", "payload")
SELECT 'users.import', jsonb_build_object('importId', "id") FROM "user_imports"
WHERE "status" IN ('queued', 'processing') ORDER BY "created_at";
