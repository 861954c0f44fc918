CREATE TABLE "token_leases" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "token_leases_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"token_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"leased_at" timestamp (6) with time zone NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	"ended_at" timestamp (6) with time zone,
	"end_reason" text,
	CONSTRAINT "token_leases_end_check" CHECK (("token_leases"."ended_at" is null and "token_leases"."end_reason" is null) or ("token_leases"."ended_at" is not null and "token_leases"."end_reason" in ('expired', 'released', 'evicted', 'cleared'))),
	CONSTRAINT "token_leases_period_check" CHECK ("token_leases"."expires_at" > "token_leases"."leased_at")
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"holder_id" uuid,
	"leased_at" timestamp (6) with time zone,
	"expires_at" timestamp (6) with time zone,
	"lease_id" bigint
);
--> statement-breakpoint
ALTER TABLE "token_leases" ADD CONSTRAINT "token_leases_token_id_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "token_leases_open_token_key" ON "token_leases" USING btree ("token_id") WHERE "token_leases"."ended_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "token_leases_open_user_key" ON "token_leases" USING btree ("user_id") WHERE "token_leases"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "token_leases_history_idx" ON "token_leases" USING btree ("token_id","leased_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "token_leases_due_idx" ON "token_leases" USING btree ("expires_at") WHERE "token_leases"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "tokens_lease_order_idx" ON "tokens" USING btree ("leased_at" NULLS FIRST,"id");