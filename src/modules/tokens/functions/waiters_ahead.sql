CREATE OR REPLACE FUNCTION public.waiters_ahead(p_before bigint)
 RETURNS integer
 LANGUAGE sql
AS $function$
  SELECT count(*)::integer FROM lease_waiters w WHERE w.id < p_before AND w.alive_until > clock_timestamp()
$function$;
