CREATE TABLE "lease_waiters" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lease_waiters_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"holder_id" uuid NOT NULL,
	"actor_id" uuid,
	"metadata" jsonb,
	"ip" text,
	"user_agent" text,
	"request_id" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"alive_until" timestamp (6) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "lease_waiters_alive_idx" ON "lease_waiters" USING btree ("alive_until");--> statement-breakpoint
-- A request that waits for a token (`onFull: "wait"`) and is not served at once gets a place in
-- lease_waiters and answers with it (`waiter_id`); its process then claims for it with
-- claim_waiting_leases until it is served, gives up, or is gone.
ALTER TYPE lease_outcome ADD ATTRIBUTE waiter_id bigint;
--> statement-breakpoint
-- How long a waiter keeps its place after its process last claimed for it. Processes claim every
-- second; a killed one's waiters stop blocking the line this long after it died.
CREATE FUNCTION lease_waiter_grace() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '10 seconds' $$;
--> statement-breakpoint
-- How many waiters still holding a place stand before `p_before`.
CREATE FUNCTION waiters_ahead(p_before bigint) RETURNS integer LANGUAGE sql AS $$
  SELECT count(*)::integer FROM lease_waiters w WHERE w.id < p_before AND w.alive_until > clock_timestamp()
$$;
--> statement-breakpoint
-- Whether more than `p_ahead` tokens are free at `p_at` (a free token has no lease; an expired one's
-- has ended): counted no further than that.
CREATE FUNCTION free_beyond(p_ahead integer, p_at timestamptz) RETURNS boolean LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM (SELECT 1 FROM tokens t WHERE t.leased_at IS NULL LIMIT p_ahead + 1) f)
       + (SELECT count(*) FROM (SELECT 1 FROM tokens t WHERE t.expires_at <= p_at LIMIT p_ahead + 1) e) > p_ahead
$$;
--> statement-breakpoint
-- Seconds until the first held lease ends, at least 1: when a refused request may try again.
CREATE FUNCTION first_lease_end_seconds(p_at timestamptz) RETURNS integer LANGUAGE sql AS $$
  SELECT coalesce((SELECT greatest(1, ceil(extract(epoch FROM t.expires_at - p_at)))::integer
                     FROM tokens t WHERE t.expires_at > p_at ORDER BY t.expires_at, t.id LIMIT 1), 1)
$$;
--> statement-breakpoint
DROP FUNCTION lease_one(uuid, integer, boolean, boolean, jsonb, uuid, text, text, text, timestamptz);
--> statement-breakpoint
-- As in 0008, and: waiters are served first come, first served. Holding the pool EXCLUSIVE, a free
-- token goes to a request only when more tokens are free than waiters stand before it (all of them,
-- for a request that is not a waiter); the others are promised. Then: `p_waiter`, a waiter's claim,
-- stays waiting; `p_wait_seconds` set, the request takes a place in line; `p_evict` evicts the
-- oldest lease still running (never a promised token); else the pool is full for it (`retry_after`).
-- The SHARE path never meets a waiter: lease_tokens hands every request back while there are some.
-- `p_line_empty`: the caller, holding the pool EXCLUSIVE, knows that no one waits (no one can join
-- but through this function), which spares counting the line for every lease of a batch.
CREATE FUNCTION lease_one(p_holder uuid, p_ttl_seconds integer, p_exclusive boolean, p_evict boolean,
  p_metadata jsonb, p_actor uuid, p_ip text, p_user_agent text, p_request_id text, p_at timestamptz DEFAULT NULL,
  p_wait_seconds integer DEFAULT NULL, p_waiter bigint DEFAULT NULL, p_line_empty boolean DEFAULT false)
  RETURNS lease_outcome LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz;
  v_open token_leases%ROWTYPE;
  v_token tokens%ROWTYPE;
  v_closed token_leases%ROWTYPE;
  v_lease_id bigint;
  v_evicted uuid;
  v_expired jsonb := '[]'::jsonb;
  v_ahead integer;
  v_waiter bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_holder::text, 0));
  v_now := coalesce(p_at, clock_timestamp());

  SELECT * INTO v_open FROM token_leases l WHERE l.user_id = p_holder AND l.ended_at IS NULL;
  IF FOUND AND v_open.expires_at > v_now THEN
    RETURN (v_open.token_id, v_open.user_id, v_open.leased_at, v_open.expires_at, false, NULL, v_expired,
            v_open.id, v_open.metadata, NULL, NULL)::lease_outcome;
  END IF;

  IF p_exclusive THEN
    -- No other writer of the pool is in flight, so this snapshot is the pool as it is at v_now:
    -- a free token, else one whose lease was over by v_now, unless waiters were promised them all.
    IF p_line_empty THEN
      v_ahead := 0;
    ELSE
      v_ahead := waiters_ahead(coalesce(p_waiter, 9223372036854775807));
    END IF;
    IF v_ahead = 0 OR free_beyond(v_ahead, v_now) THEN
      SELECT * INTO v_token FROM tokens t WHERE t.leased_at IS NULL ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
      IF v_token.id IS NULL THEN
        SELECT * INTO v_token FROM tokens t WHERE t.expires_at <= v_now ORDER BY t.expires_at, t.id LIMIT 1 FOR UPDATE;
      END IF;
    END IF;
    IF v_token.id IS NULL AND p_waiter IS NOT NULL THEN
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL, p_waiter)::lease_outcome;
    END IF;
    IF v_token.id IS NULL AND p_wait_seconds IS NOT NULL THEN
      INSERT INTO lease_waiters (holder_id, actor_id, metadata, ip, user_agent, request_id, alive_until)
        VALUES (p_holder, p_actor, p_metadata, p_ip, p_user_agent, p_request_id, clock_timestamp() + lease_waiter_grace())
        RETURNING id INTO v_waiter;
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL, v_waiter)::lease_outcome;
    END IF;
    IF v_token.id IS NULL AND p_evict THEN
      -- Every lease lasts the same, so the first in lease order is the oldest.
      SELECT * INTO v_token FROM tokens t WHERE t.expires_at > v_now
        ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
    END IF;
    IF v_token.id IS NULL THEN
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, first_lease_end_seconds(v_now),
              NULL)::lease_outcome;
    END IF;
  ELSE
    -- A free token, else the one whose lease ended first. Each condition is in WHERE because that
    -- is what PostgreSQL checks again on a row a concurrent transaction changed after this
    -- statement's snapshot (ORDER BY is not checked again): a token leased a moment ago elsewhere
    -- is skipped.
    SELECT * INTO v_token FROM tokens t WHERE t.leased_at IS NULL
      ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      SELECT * INTO v_token FROM tokens t WHERE t.expires_at <= coalesce(p_at, clock_timestamp())
        ORDER BY t.expires_at, t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    -- Every token is held, or being taken or freed by a transaction still in flight: only a caller
    -- holding the pool EXCLUSIVE can tell which, so this one hands the request back untouched.
    IF NOT FOUND THEN
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL, NULL)::lease_outcome;
    END IF;
    -- The lease begins once its token is locked: a release or clear that freed the token committed
    -- before that, so the history never shows a lease beginning before the one it follows ended.
    v_now := coalesce(p_at, clock_timestamp());
  END IF;

  IF v_open.id IS NOT NULL AND v_open.id IS DISTINCT FROM v_token.lease_id THEN
    -- The holder's last lease is over but still open: it ends at its own expiry, not now.
    UPDATE token_leases l SET ended_at = l.expires_at, end_reason = 'expired'
      WHERE l.id = v_open.id AND l.ended_at IS NULL RETURNING * INTO v_closed;
    IF FOUND THEN
      v_expired := v_expired || jsonb_build_object('tokenId', v_closed.token_id, 'userId', v_closed.user_id, 'endedAt', v_closed.ended_at);
    END IF;
  END IF;

  IF v_token.lease_id IS NOT NULL THEN
    IF v_token.expires_at <= v_now THEN
      UPDATE token_leases l SET ended_at = l.expires_at, end_reason = 'expired'
        WHERE l.id = v_token.lease_id AND l.ended_at IS NULL RETURNING * INTO v_closed;
      -- Not found if the sweep closed it a moment ago, as expired too.
      IF FOUND THEN
        v_expired := v_expired || jsonb_build_object('tokenId', v_closed.token_id, 'userId', v_closed.user_id, 'endedAt', v_closed.ended_at);
      END IF;
    ELSE
      UPDATE token_leases l SET ended_at = v_now, end_reason = 'evicted'
        WHERE l.id = v_token.lease_id AND l.ended_at IS NULL RETURNING * INTO v_closed;
      v_evicted := v_closed.user_id;
    END IF;
  END IF;

  INSERT INTO token_leases (token_id, user_id, leased_at, expires_at, metadata)
    VALUES (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), p_metadata)
    RETURNING id INTO v_lease_id;
  UPDATE tokens t SET holder_id = p_holder, leased_at = v_now,
      expires_at = v_now + make_interval(secs => p_ttl_seconds), lease_id = v_lease_id
    WHERE t.id = v_token.id;

  INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
  SELECT 'token.expired', NULL, 'token', e->>'tokenId', p_ip, p_user_agent, p_request_id,
         jsonb_build_object('userId', e->>'userId', 'endedAt', e->>'endedAt')
    FROM jsonb_array_elements(v_expired) e
  UNION ALL
  SELECT 'token.evicted', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
         jsonb_build_object('evictedUserId', v_evicted, 'byUserId', p_holder)
   WHERE v_evicted IS NOT NULL
  UNION ALL
  SELECT 'token.leased', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
         jsonb_build_object('userId', p_holder, 'leaseId', v_lease_id);

  RETURN (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), true, v_evicted, v_expired,
          v_lease_id, p_metadata, NULL, NULL)::lease_outcome;
END $$;
--> statement-breakpoint
-- As in 0008, and each item may carry `waitSeconds`. While waiters hold places, a batch holding
-- the pool in SHARE mode hands every request back: whose turn a free token is, only a holder of the
-- pool EXCLUSIVE can tell. One that holds it EXCLUSIVE looks at the line once: only its own
-- requests can join it until it commits.
CREATE OR REPLACE FUNCTION lease_tokens(p_items jsonb, p_ttl_seconds integer, p_exclusive boolean)
  RETURNS TABLE(ord integer, lease lease_outcome) LANGUAGE plpgsql AS $$
DECLARE
  v_item jsonb;
  v_ord integer := 0;
  v_lease lease_outcome;
  v_line_empty boolean;
BEGIN
  PERFORM lock_pool(p_exclusive);
  v_line_empty := NOT EXISTS (SELECT 1 FROM lease_waiters w WHERE w.alive_until > clock_timestamp());
  IF NOT p_exclusive AND NOT v_line_empty THEN
    RETURN QUERY SELECT i.ord::integer, (NULL, (i.value->>'holder')::uuid, NULL, NULL, false, NULL, '[]'::jsonb,
      NULL, NULL, NULL, NULL)::lease_outcome FROM jsonb_array_elements(p_items) WITH ORDINALITY i(value, ord);
    RETURN;
  END IF;
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_ord := v_ord + 1;
    v_lease := lease_one((v_item->>'holder')::uuid, p_ttl_seconds, p_exclusive,
      coalesce((v_item->>'evict')::boolean, true), nullif(v_item->'metadata', 'null'::jsonb),
      (v_item->>'actor')::uuid, v_item->>'ip', v_item->>'userAgent', v_item->>'requestId', NULL,
      (v_item->>'waitSeconds')::integer, NULL, v_line_empty);
    v_line_empty := v_line_empty AND v_lease.waiter_id IS NULL;
    RETURN QUERY SELECT v_ord, v_lease;
  END LOOP;
END $$;
--> statement-breakpoint
-- A process claims for its own waiters, oldest first, and so keeps their places; a waiter served
-- leaves the line. Rows come for the waiters that still hold a place: `lease` null while one still
-- waits. `next_end_ms`: how long until the first held lease ends, when a token may come free.
CREATE FUNCTION claim_waiting_leases(p_waiters bigint[], p_ttl_seconds integer)
  RETURNS TABLE(waiter_id bigint, lease lease_outcome, next_end_ms float8) LANGUAGE plpgsql AS $$
DECLARE
  v_waiter lease_waiters%ROWTYPE;
  v_lease lease_outcome;
  v_serving boolean := true;
  v_next_end_ms float8;
BEGIN
  PERFORM lock_pool(true);
  UPDATE lease_waiters w SET alive_until = clock_timestamp() + lease_waiter_grace() WHERE w.id = ANY(p_waiters);
  -- The waiters of processes that stopped claiming: gone, and nobody's turn any more.
  DELETE FROM lease_waiters w WHERE w.alive_until <= clock_timestamp();
  SELECT extract(epoch FROM min(t.expires_at) - clock_timestamp()) * 1000 INTO v_next_end_ms
    FROM tokens t WHERE t.expires_at > clock_timestamp();
  FOR v_waiter IN SELECT * FROM lease_waiters w WHERE w.id = ANY(p_waiters) ORDER BY w.id LOOP
    v_lease := NULL;
    -- Once one waiter is not served, no waiter behind it can be.
    IF v_serving THEN
      v_lease := lease_one(v_waiter.holder_id, p_ttl_seconds, true, false, v_waiter.metadata, v_waiter.actor_id,
        v_waiter.ip, v_waiter.user_agent, v_waiter.request_id, NULL, NULL, v_waiter.id);
      IF v_lease.token_id IS NULL THEN
        v_serving := false;
        v_lease := NULL;
      ELSE
        DELETE FROM lease_waiters w WHERE w.id = v_waiter.id;
      END IF;
    END IF;
    RETURN QUERY SELECT v_waiter.id, v_lease, v_next_end_ms;
  END LOOP;
END $$;
