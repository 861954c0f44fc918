CREATE OR REPLACE FUNCTION public.claim_waiting_leases(p_waiters bigint[], p_ttl_seconds integer)
 RETURNS TABLE(waiter_id bigint, lease lease_outcome, next_end_ms double precision)
 LANGUAGE plpgsql
AS $function$
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
END $function$;
