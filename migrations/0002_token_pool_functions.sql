-- The pool is made once and never resized: inserting is allowed only inside the transaction that
-- creates it (which sets tokenpool.creating_pool), deleting and truncating never.
CREATE FUNCTION tokens_guard_size() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' AND coalesce(current_setting('tokenpool.creating_pool', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'the token pool is made once and never resized (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
CREATE TRIGGER tokens_guard_size BEFORE INSERT OR DELETE OR TRUNCATE ON tokens
  FOR EACH STATEMENT EXECUTE FUNCTION tokens_guard_size();
--> statement-breakpoint
-- leaseToken: one round trip, one transaction. Gives `p_holder` their active lease back unchanged,
-- or a free token, or an expired lease's token, or evicts the oldest lease.
--
-- Locking, in the only order any writer takes them: the holder's advisory lock, then one token row,
-- then lease rows. The advisory lock lines up two requests for one holder (so a retry never takes a
-- second token); SKIP LOCKED sends concurrent callers to different tokens instead of a queue.
CREATE FUNCTION lease_token(
  p_holder uuid,
  p_ttl_seconds integer,
  p_actor uuid,
  p_ip text,
  p_user_agent text,
  p_request_id text,
  -- Tests pass an instant to probe the expiry boundary exactly; the service never does.
  p_at timestamptz DEFAULT NULL
) RETURNS TABLE (
  token_id uuid,
  holder_id uuid,
  leased_at timestamptz,
  expires_at timestamptz,
  created boolean,
  evicted_user_id uuid,
  expired jsonb
) LANGUAGE plpgsql AS $$
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
  IF FOUND THEN
    IF v_open.expires_at > v_now THEN
      RETURN QUERY SELECT v_open.token_id, v_open.user_id, v_open.leased_at, v_open.expires_at, false, NULL::uuid, v_expired;
      RETURN;
    END IF;
    -- The holder's last lease is over but still open: it ends at its own expiry, not now.
    UPDATE token_leases l SET ended_at = l.expires_at, end_reason = 'expired'
      WHERE l.id = v_open.id AND l.ended_at IS NULL RETURNING * INTO v_closed;
    IF FOUND THEN
      v_expired := v_expired || jsonb_build_object('tokenId', v_closed.token_id, 'userId', v_closed.user_id, 'endedAt', v_closed.ended_at);
    END IF;
  END IF;

  -- Free tokens sort first (leased_at null), then the oldest leases; an expired lease is older than
  -- any active one, since every lease of the pool has the same TTL.
  SELECT * INTO v_token FROM tokens t ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    -- Every token is being leased at this instant: wait for the first one, then choose again
    -- (by then the order has changed; our own lock does not make us skip that row).
    PERFORM 1 FROM tokens t ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
    SELECT * INTO v_token FROM tokens t ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
  END IF;

  IF v_token.lease_id IS NOT NULL THEN
    IF v_token.expires_at <= v_now THEN
      UPDATE token_leases l SET ended_at = l.expires_at, end_reason = 'expired'
        WHERE l.id = v_token.lease_id AND l.ended_at IS NULL RETURNING * INTO v_closed;
      IF FOUND THEN
        v_expired := v_expired || jsonb_build_object('tokenId', v_closed.token_id, 'userId', v_closed.user_id, 'endedAt', v_closed.ended_at);
      END IF;
    ELSE
      UPDATE token_leases l SET ended_at = v_now, end_reason = 'evicted'
        WHERE l.id = v_token.lease_id AND l.ended_at IS NULL RETURNING * INTO v_closed;
      -- Not found only if the sweep closed it as expired a moment ago: then nobody was evicted.
      IF FOUND THEN
        v_evicted := v_closed.user_id;
      END IF;
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

  RETURN QUERY SELECT v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), true, v_evicted, v_expired;
END $$;
