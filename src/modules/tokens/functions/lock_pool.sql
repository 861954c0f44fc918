CREATE OR REPLACE FUNCTION public.lock_pool(p_exclusive boolean)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF p_exclusive THEN
    PERFORM pg_advisory_xact_lock(7405122913);
  ELSE
    PERFORM pg_advisory_xact_lock_shared(7405122913);
  END IF;
END $function$;
