CREATE INDEX "tokens_expires_at_idx" ON "tokens" USING btree ("expires_at","id");--> statement-breakpoint
-- Who may change who holds a token, and how many at once. Leasing a free or expired token,
-- releasing and clearing take the pool in SHARE mode and run side by side; evicting takes it
-- EXCLUSIVE, so an evicting transaction starts only once every other writer of the pool has
-- committed, and none starts until it has. Only then is "every token is held, and this lease is the
-- oldest" a fact rather than a guess from a snapshot that transactions in flight are changing.
-- Every writer takes this lock first, and once: no transaction holds it while waiting for it.
CREATE FUNCTION lock_pool(p_exclusive boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_exclusive THEN
    PERFORM pg_advisory_xact_lock(7405122913);
  ELSE
    PERFORM pg_advisory_xact_lock_shared(7405122913);
  END IF;
END $$;
--> statement-breakpoint
DROP FUNCTION lease_tokens(jsonb, integer);
--> statement-breakpoint
DROP FUNCTION lease_token(uuid, integer, uuid, text, text, text, timestamptz);
--> statement-breakpoint
-- What one lease request came to. `token_id` is null when the pool held in SHARE mode had no token
-- to give: the request must be tried again holding the pool EXCLUSIVE, where it may evict.
CREATE TYPE lease_outcome AS (
  token_id uuid,
  holder_id uuid,
  leased_at timestamptz,
  expires_at timestamptz,
  created boolean,
  evicted_user_id uuid,
  expired jsonb
);
--> statement-breakpoint
-- leaseOne: gives `p_holder` their active lease back unchanged, or a free token, or the token whose
-- lease ended first, or (holding the pool EXCLUSIVE only) evicts the oldest lease. The caller holds
-- the pool lock (lock_pool) in the mode it passes as `p_exclusive`.
--
-- Locks, in the only order any writer takes them: the pool, the holder's advisory lock, token rows,
-- lease rows. The holder's lock lines up two requests for one holder (so a retry never takes a
-- second token); SKIP LOCKED sends concurrent callers to different tokens instead of a queue.
CREATE FUNCTION lease_one(
  p_holder uuid,
  p_ttl_seconds integer,
  p_exclusive boolean,
  p_actor uuid,
  p_ip text,
  p_user_agent text,
  p_request_id text,
  -- Tests pass an instant to probe the expiry boundary exactly; the service never does.
  p_at timestamptz DEFAULT NULL
) RETURNS lease_outcome LANGUAGE plpgsql AS $$
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
    RETURN (v_open.token_id, v_open.user_id, v_open.leased_at, v_open.expires_at, false, NULL, v_expired)::lease_outcome;
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
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired)::lease_outcome;
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

  INSERT INTO token_leases (token_id, user_id, leased_at, expires_at)
    VALUES (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds))
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

  RETURN (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), true, v_evicted, v_expired)::lease_outcome;
END $$;
--> statement-breakpoint
-- leaseTokens: many leases in one call and one transaction. The API process coalesces concurrent
-- requests into one batch, so a storm costs one round trip and one commit per batch instead of
-- per lease. Items run in order, each as lease_one; the caller sorts them by holder, so two batches
-- take holder locks in the same order. In SHARE mode an item that would have to evict comes back
-- with no token, for the caller to send again in EXCLUSIVE mode.
-- p_items: [{ "holder": uuid, "actor": uuid|null, "ip": text|null, "userAgent": text|null, "requestId": text|null }]
CREATE FUNCTION lease_tokens(p_items jsonb, p_ttl_seconds integer, p_exclusive boolean)
RETURNS TABLE (ord integer, lease lease_outcome) LANGUAGE plpgsql AS $$
DECLARE
  v_item jsonb;
  v_ord integer := 0;
BEGIN
  PERFORM lock_pool(p_exclusive);
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_ord := v_ord + 1;
    RETURN QUERY SELECT v_ord, lease_one((v_item->>'holder')::uuid, p_ttl_seconds, p_exclusive,
      (v_item->>'actor')::uuid, v_item->>'ip', v_item->>'userAgent', v_item->>'requestId');
  END LOOP;
END $$;
