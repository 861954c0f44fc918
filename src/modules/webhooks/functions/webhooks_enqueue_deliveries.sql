CREATE OR REPLACE FUNCTION public.webhooks_enqueue_deliveries()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  -- Most pools have no endpoint: one probe, and the lease's transaction pays nothing more.
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE deleted_at IS NULL) THEN
    RETURN NULL;
  END IF;
  WITH entry AS (
    SELECT n.action, n.created_at, n.metadata,
           CASE WHEN n.target_type = 'token' THEN jsonb_build_object('tokenId', n.target_id) ELSE '{}'::jsonb END
             || n.metadata AS data
      FROM inserted n
     WHERE n.action IN ('token.leased', 'token.released', 'token.expired', 'token.evicted', 'tokens.cleared')
  ), event AS (
    -- A new lease's event carries what its answer did: the fence (the lease's id) and the holder's
    -- metadata, so a receiver can fence with it too.
    SELECT v.action, v.created_at,
           CASE WHEN v.action = 'token.leased' AND jsonb_typeof(v.metadata->'leaseId') = 'number'
             THEN (v.data - 'leaseId') || jsonb_build_object('fence', v.metadata->'leaseId', 'metadata',
                    (SELECT l.metadata FROM token_leases l WHERE l.id = (v.metadata->>'leaseId')::bigint))
             ELSE v.data END AS data
      FROM entry v
  ), delivery AS (
    INSERT INTO webhook_deliveries (endpoint_id, event, data, occurred_at)
    SELECT e.id, v.action, v.data, v.created_at
      FROM event v JOIN webhook_endpoints e ON e.deleted_at IS NULL AND v.action = ANY (e.events)
    RETURNING id
  )
  INSERT INTO jobs (kind, payload)
  SELECT 'webhooks.deliver', jsonb_build_object('deliveryId', d.id) FROM delivery d;
  RETURN NULL;
END $function$;
