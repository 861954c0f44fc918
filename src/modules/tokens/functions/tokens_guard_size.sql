CREATE OR REPLACE FUNCTION public.tokens_guard_size()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF TG_OP = 'INSERT' AND coalesce(current_setting('tokenpool.creating_pool', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'the token pool is made once and never resized (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END $function$;
