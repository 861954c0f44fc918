-- leaseTokens: many leases in one call and one transaction. The API process coalesces concurrent
-- requests into one batch, so a storm costs one round trip and one commit per batch instead of
-- per lease. Items run in order, each exactly as lease_token runs alone; the caller sorts them by
-- holder, so two batches take holder locks in the same order.
-- p_items: [{ "holder": uuid, "actor": uuid|null, "ip": text|null, "userAgent": text|null, "requestId": text|null }]
CREATE FUNCTION lease_tokens(p_items jsonb, p_ttl_seconds integer) RETURNS TABLE (
  ord integer,
  token_id uuid,
  holder_id uuid,
  leased_at timestamptz,
  expires_at timestamptz,
  created boolean,
  evicted_user_id uuid,
  expired jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_item jsonb;
  v_ord integer := 0;
BEGIN
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_ord := v_ord + 1;
    RETURN QUERY SELECT v_ord, l.* FROM lease_token((v_item->>'holder')::uuid, p_ttl_seconds,
      (v_item->>'actor')::uuid, v_item->>'ip', v_item->>'userAgent', v_item->>'requestId') l;
  END LOOP;
END $$;
