CREATE OR REPLACE FUNCTION public.lease_tokens(p_items jsonb, p_ttl_seconds integer, p_exclusive boolean)
 RETURNS TABLE(ord integer, lease lease_outcome)
 LANGUAGE plpgsql
AS $function$
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
END $function$;
