CREATE OR REPLACE FUNCTION public.first_lease_end_seconds(p_at timestamp with time zone)
 RETURNS integer
 LANGUAGE sql
AS $function$
  SELECT coalesce((SELECT greatest(1, ceil(extract(epoch FROM t.expires_at - p_at)))::integer
                     FROM tokens t WHERE t.expires_at > p_at ORDER BY t.expires_at, t.id LIMIT 1), 1)
$function$;
