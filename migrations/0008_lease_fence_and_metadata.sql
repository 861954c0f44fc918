ALTER TABLE "token_leases" ADD COLUMN "metadata" jsonb;
--> statement-breakpoint
-- A lease's fence is its id: given out in increasing order, so a later lease of a token always has
-- a greater fence than an earlier one, and a downstream service can refuse a stale holder by it.
-- The outcome gains the fence and the metadata, and, for a request that would rather fail than
-- evict, the seconds until the pool's first lease ends (`retry_after`, by the database clock).
DROP FUNCTION lease_tokens(jsonb, integer, boolean);
--> statement-breakpoint
DROP FUNCTION lease_one(uuid, integer, boolean, uuid, text, text, text, timestamptz);
--> statement-breakpoint
DROP TYPE lease_outcome;
--> statement-breakpoint
CREATE TYPE lease_outcome AS (
  token_id uuid,
  holder_id uuid,
  leased_at timestamptz,
  expires_at timestamptz,
  created boolean,
  evicted_user_id uuid,
  expired jsonb,
  fence bigint,
  metadata jsonb,
  retry_after integer
);
--> statement-breakpoint
-- As in 0006, and: `p_evict` false makes a full pool answer with `retry_after` instead of evicting;
-- `p_metadata` is kept with the lease.
CREATE FUNCTION lease_one(p_holder uuid, p_ttl_seconds integer, p_exclusive boolean, p_evict boolean,
  p_metadata jsonb, p_actor uuid, p_ip text, p_user_agent text, p_request_id text, p_at timestamptz DEFAULT NULL)
  RETURNS lease_outcome LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz;
  v_open token_leases%ROWTYPE;
  v_token tokens%ROWTYPE;
  v_closed token_leases%ROWTYPE;
  v_lease_id bigint;
  v_evicted uuid;
  v_expired jsonb := '[]'::jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_holder::text, 0));
  v_now := coalesce(p_at, clock_timestamp());

  SELECT * INTO v_open FROM token_leases l WHERE l.user_id = p_holder AND l.ended_at IS NULL;
  IF FOUND AND v_open.expires_at > v_now THEN
    RETURN (v_open.token_id, v_open.user_id, v_open.leased_at, v_open.expires_at, false, NULL, v_expired,
            v_open.id, v_open.metadata, NULL)::lease_outcome;
  END IF;

  IF p_exclusive THEN
    -- No other writer of the pool is in flight, so this snapshot is the pool as it is at v_now:
    -- a free token, else one whose lease was over by v_now, else every token is held by an
    -- unexpired lease and the first in lease order is the oldest.
    -- (No token has a null leased_at in the last search; NULLS FIRST only lets the index serve.)
    SELECT * INTO v_token FROM tokens t WHERE t.leased_at IS NULL ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
      SELECT * INTO v_token FROM tokens t WHERE t.expires_at <= v_now ORDER BY t.expires_at, t.id LIMIT 1 FOR UPDATE;
    END IF;
    IF NOT FOUND AND NOT p_evict THEN
      -- Every token is held and this request would rather fail than evict: it may try again once
      -- the first lease to end has ended (every lease lasts the same, so that is the oldest).
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL,
              (SELECT greatest(1, ceil(extract(epoch FROM t.expires_at - v_now)))::integer
                 FROM tokens t ORDER BY t.expires_at, t.id LIMIT 1))::lease_outcome;
    END IF;
    IF NOT FOUND THEN
      SELECT * INTO v_token FROM tokens t ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
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
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL)::lease_outcome;
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
          v_lease_id, p_metadata, NULL)::lease_outcome;
END $$;

--> statement-breakpoint
-- Each item may carry `evict` (default true) and `metadata`.
CREATE FUNCTION lease_tokens(p_items jsonb, p_ttl_seconds integer, p_exclusive boolean)
  RETURNS TABLE(ord integer, lease lease_outcome) LANGUAGE plpgsql AS $$
DECLARE
  v_item jsonb;
  v_ord integer := 0;
BEGIN
  PERFORM lock_pool(p_exclusive);
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_ord := v_ord + 1;
    RETURN QUERY SELECT v_ord, lease_one((v_item->>'holder')::uuid, p_ttl_seconds, p_exclusive,
      coalesce((v_item->>'evict')::boolean, true), nullif(v_item->'metadata', 'null'::jsonb),
      (v_item->>'actor')::uuid, v_item->>'ip', v_item->>'userAgent', v_item->>'requestId');
  END LOOP;
END $$;
