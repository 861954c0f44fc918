CREATE OR REPLACE FUNCTION public.lease_one(p_holder uuid, p_ttl_seconds integer, p_exclusive boolean, p_evict boolean, p_metadata jsonb, p_actor uuid, p_ip text, p_user_agent text, p_request_id text, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_wait_seconds integer DEFAULT NULL::integer, p_waiter bigint DEFAULT NULL::bigint, p_line_empty boolean DEFAULT false)
 RETURNS lease_outcome
 LANGUAGE plpgsql
AS $function$
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

  -- One plain VALUES statement per shape: cheaper to start than one statement for every shape.
  IF jsonb_array_length(v_expired) > 0 THEN
    INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
    SELECT 'token.expired', NULL, 'token', e->>'tokenId', p_ip, p_user_agent, p_request_id,
           jsonb_build_object('userId', e->>'userId', 'endedAt', e->>'endedAt')
      FROM jsonb_array_elements(v_expired) e;
  END IF;
  IF v_evicted IS NOT NULL THEN
    INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
    VALUES ('token.evicted', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
            jsonb_build_object('evictedUserId', v_evicted, 'byUserId', p_holder)),
           ('token.leased', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
            jsonb_build_object('userId', p_holder, 'leaseId', v_lease_id));
  ELSE
    INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
    VALUES ('token.leased', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
            jsonb_build_object('userId', p_holder, 'leaseId', v_lease_id));
  END IF;

  RETURN (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), true, v_evicted, v_expired,
          v_lease_id, p_metadata, NULL, NULL)::lease_outcome;
END $function$;
