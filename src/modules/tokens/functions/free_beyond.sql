CREATE OR REPLACE FUNCTION public.free_beyond(p_ahead integer, p_at timestamp with time zone)
 RETURNS boolean
 LANGUAGE sql
AS $function$
  SELECT (SELECT count(*) FROM (SELECT 1 FROM tokens t WHERE t.leased_at IS NULL LIMIT p_ahead + 1) f)
       + (SELECT count(*) FROM (SELECT 1 FROM tokens t WHERE t.expires_at <= p_at LIMIT p_ahead + 1) e) > p_ahead
$function$;
