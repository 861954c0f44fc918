CREATE OR REPLACE FUNCTION public.lease_waiter_grace()
 RETURNS interval
 LANGUAGE sql
 IMMUTABLE
AS $function$ SELECT interval '10 seconds' $function$;
