-- The schema as migrations/ and the modules' functions/*.sql leave it: written by `npm run db:dump`,
-- checked by a test. Do not edit it; change a migration or a function source, then dump again.

CREATE TABLE api_keys (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  created_by uuid,
  name text NOT NULL,
  key_hash text NOT NULL,
  prefix text NOT NULL,
  scopes text[] NOT NULL,
  pools text[],
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  expires_at timestamp(6) with time zone NOT NULL,
  revoked_at timestamp(6) with time zone,
  last_used_at timestamp(6) with time zone,
  CONSTRAINT api_keys_created_by_users_id_fk FOREIGN KEY (created_by) REFERENCES users(id),
  CONSTRAINT api_keys_owner_id_users_id_fk FOREIGN KEY (owner_id) REFERENCES users(id),
  CONSTRAINT api_keys_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX api_keys_key_hash_key ON public.api_keys USING btree (key_hash);
CREATE INDEX api_keys_live_idx ON public.api_keys USING btree (created_at DESC NULLS LAST, id DESC NULLS LAST) WHERE (revoked_at IS NULL);
CREATE INDEX api_keys_owner_idx ON public.api_keys USING btree (owner_id, created_at DESC NULLS LAST, id DESC NULLS LAST) WHERE (revoked_at IS NULL);

CREATE TABLE audit_logs (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  action text NOT NULL,
  user_id uuid,
  target_type text,
  target_id text,
  ip text,
  user_agent text,
  request_id text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  CONSTRAINT audit_logs_pkey PRIMARY KEY (id),
  CONSTRAINT audit_logs_user_id_users_id_fk FOREIGN KEY (user_id) REFERENCES users(id)
);
CREATE INDEX audit_logs_action_idx ON public.audit_logs USING btree (action, created_at DESC NULLS LAST, id DESC NULLS LAST);
CREATE INDEX audit_logs_created_at_idx ON public.audit_logs USING btree (created_at DESC NULLS LAST, id DESC NULLS LAST);
CREATE INDEX audit_logs_user_id_idx ON public.audit_logs USING btree (user_id, created_at DESC NULLS LAST, id DESC NULLS LAST);

CREATE TABLE deployment_leases (
  name text NOT NULL,
  holder text NOT NULL,
  expires_at timestamp(6) with time zone NOT NULL,
  CONSTRAINT deployment_leases_pkey PRIMARY KEY (name)
);

CREATE TABLE deployment_settings (
  name text NOT NULL,
  value text NOT NULL,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  CONSTRAINT deployment_settings_pkey PRIMARY KEY (name)
);

CREATE TABLE jobs (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending'::text,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  run_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  locked_by text,
  locked_until timestamp(6) with time zone,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  finished_at timestamp(6) with time zone,
  uid uuid NOT NULL DEFAULT gen_random_uuid(),
  queue_id text,
  relayed_at timestamp(6) with time zone,
  checked_at timestamp(6) with time zone,
  check_state text,
  CONSTRAINT jobs_check_state_check CHECK ((check_state = ANY (ARRAY['waiting'::text, 'active'::text, 'delayed'::text]))),
  CONSTRAINT jobs_pkey PRIMARY KEY (id),
  CONSTRAINT jobs_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'relayed'::text, 'failed'::text])))
);
CREATE INDEX jobs_due_idx ON public.jobs USING btree (run_at, id) WHERE (status = 'pending'::text);
CREATE INDEX jobs_relayed_idx ON public.jobs USING btree (checked_at) WHERE (status = 'relayed'::text);
CREATE UNIQUE INDEX jobs_uid_key ON public.jobs USING btree (uid);

CREATE TABLE lease_waiters (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  holder_id uuid NOT NULL,
  actor_id uuid,
  metadata jsonb,
  ip text,
  user_agent text,
  request_id text,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  alive_until timestamp(6) with time zone NOT NULL,
  CONSTRAINT lease_waiters_pkey PRIMARY KEY (id)
);
CREATE INDEX lease_waiters_alive_idx ON public.lease_waiters USING btree (alive_until);

CREATE TABLE one_time_tokens (
  token_hash text NOT NULL,
  user_id uuid NOT NULL,
  purpose text NOT NULL,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  expires_at timestamp(6) with time zone NOT NULL,
  used_at timestamp(6) with time zone,
  CONSTRAINT one_time_tokens_pkey PRIMARY KEY (token_hash),
  CONSTRAINT one_time_tokens_purpose_check CHECK ((purpose = ANY (ARRAY['password_reset'::text, 'email_verification'::text]))),
  CONSTRAINT one_time_tokens_user_id_users_id_fk FOREIGN KEY (user_id) REFERENCES users(id)
);
CREATE INDEX one_time_tokens_user_id_idx ON public.one_time_tokens USING btree (user_id, purpose);

CREATE TABLE refresh_tokens (
  token_hash text NOT NULL,
  session_id uuid NOT NULL,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  expires_at timestamp(6) with time zone NOT NULL,
  spent_at timestamp(6) with time zone,
  CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
  CONSTRAINT refresh_tokens_session_id_sessions_id_fk FOREIGN KEY (session_id) REFERENCES sessions(id)
);
CREATE INDEX refresh_tokens_session_id_idx ON public.refresh_tokens USING btree (session_id);

CREATE TABLE sessions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  revoked_at timestamp(6) with time zone,
  revoked_reason text,
  CONSTRAINT sessions_pkey PRIMARY KEY (id),
  CONSTRAINT sessions_user_id_users_id_fk FOREIGN KEY (user_id) REFERENCES users(id)
);
CREATE INDEX sessions_user_id_idx ON public.sessions USING btree (user_id) WHERE (revoked_at IS NULL);

CREATE TABLE sql_function_sources (
  file text NOT NULL,
  sha256 text NOT NULL,
  applied_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  CONSTRAINT sql_function_sources_pkey PRIMARY KEY (file)
);

CREATE TABLE stream_tickets (
  ticket_hash text NOT NULL,
  session_id uuid NOT NULL,
  expires_at timestamp(6) with time zone NOT NULL,
  CONSTRAINT stream_tickets_pkey PRIMARY KEY (ticket_hash),
  CONSTRAINT stream_tickets_session_id_sessions_id_fk FOREIGN KEY (session_id) REFERENCES sessions(id)
);
CREATE INDEX stream_tickets_expires_at_idx ON public.stream_tickets USING btree (expires_at);

CREATE TABLE token_leases (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  token_id uuid NOT NULL,
  user_id uuid NOT NULL,
  leased_at timestamp(6) with time zone NOT NULL,
  expires_at timestamp(6) with time zone NOT NULL,
  ended_at timestamp(6) with time zone,
  end_reason lease_end_reason,
  metadata jsonb,
  CONSTRAINT token_leases_end_check CHECK (((ended_at IS NULL) = (end_reason IS NULL))),
  CONSTRAINT token_leases_period_check CHECK ((expires_at > leased_at)),
  CONSTRAINT token_leases_pkey PRIMARY KEY (id),
  CONSTRAINT token_leases_token_id_tokens_id_fk FOREIGN KEY (token_id) REFERENCES tokens(id)
);
CREATE INDEX token_leases_due_idx ON public.token_leases USING btree (expires_at) WHERE (ended_at IS NULL);
CREATE INDEX token_leases_history_idx ON public.token_leases USING btree (token_id, leased_at DESC NULLS LAST, id DESC NULLS LAST);
CREATE UNIQUE INDEX token_leases_open_token_key ON public.token_leases USING btree (token_id) WHERE (ended_at IS NULL);
CREATE UNIQUE INDEX token_leases_open_user_key ON public.token_leases USING btree (user_id) WHERE (ended_at IS NULL);

CREATE TABLE tokens (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  holder_id uuid,
  leased_at timestamp(6) with time zone,
  expires_at timestamp(6) with time zone,
  lease_id bigint,
  CONSTRAINT tokens_pkey PRIMARY KEY (id)
);
CREATE INDEX tokens_expires_at_idx ON public.tokens USING btree (expires_at, id);
CREATE INDEX tokens_lease_order_idx ON public.tokens USING btree (leased_at NULLS FIRST, id);

CREATE TABLE upload_chunks (
  key text NOT NULL,
  seq integer NOT NULL,
  data bytea NOT NULL,
  CONSTRAINT upload_chunks_key_uploads_key_fk FOREIGN KEY (key) REFERENCES uploads(key) ON DELETE CASCADE,
  CONSTRAINT upload_chunks_pkey PRIMARY KEY (key, seq)
);

CREATE TABLE uploads (
  key text NOT NULL,
  size bigint,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  CONSTRAINT uploads_pkey PRIMARY KEY (key)
);

CREATE TABLE user_imports (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  status text NOT NULL DEFAULT 'queued'::text,
  file_name text NOT NULL,
  storage_key text NOT NULL,
  size_bytes bigint NOT NULL,
  created_by uuid,
  total_rows integer,
  processed_rows integer NOT NULL DEFAULT 0,
  created_rows integer NOT NULL DEFAULT 0,
  duplicate_rows integer NOT NULL DEFAULT 0,
  invalid_rows integer NOT NULL DEFAULT 0,
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  failure_reason text,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  started_at timestamp(6) with time zone,
  finished_at timestamp(6) with time zone,
  CONSTRAINT user_imports_created_by_users_id_fk FOREIGN KEY (created_by) REFERENCES users(id),
  CONSTRAINT user_imports_pkey PRIMARY KEY (id),
  CONSTRAINT user_imports_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'processing'::text, 'completed'::text, 'failed'::text])))
);
CREATE INDEX user_imports_created_at_idx ON public.user_imports USING btree (created_at DESC NULLS LAST, id DESC NULLS LAST);

CREATE TABLE users (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  email text,
  password_hash text,
  birth_date date,
  role text NOT NULL DEFAULT 'user'::text,
  email_verified_at timestamp(6) with time zone,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  updated_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  kind text NOT NULL DEFAULT 'person'::text,
  CONSTRAINT users_email_normalized_check CHECK ((email = lower(btrim(email)))),
  CONSTRAINT users_kind_check CHECK ((((kind = 'person'::text) AND (email IS NOT NULL)) OR ((kind = 'service'::text) AND (email IS NULL) AND (password_hash IS NULL)))),
  CONSTRAINT users_pkey PRIMARY KEY (id),
  CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['user'::text, 'admin'::text])))
);
CREATE INDEX users_created_at_idx ON public.users USING btree (created_at DESC NULLS LAST, id DESC NULLS LAST);
CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email);

CREATE TABLE webhook_deliveries (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  endpoint_id uuid NOT NULL,
  event text NOT NULL,
  data jsonb NOT NULL,
  occurred_at timestamp(6) with time zone NOT NULL,
  status text NOT NULL DEFAULT 'pending'::text,
  attempts integer NOT NULL DEFAULT 0,
  last_status integer,
  last_error text,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  delivered_at timestamp(6) with time zone,
  CONSTRAINT webhook_deliveries_endpoint_id_webhook_endpoints_id_fk FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints(id),
  CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
  CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])))
);
CREATE INDEX webhook_deliveries_endpoint_idx ON public.webhook_deliveries USING btree (endpoint_id, created_at DESC NULLS LAST, id DESC NULLS LAST);

CREATE TABLE webhook_endpoints (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  url text NOT NULL,
  events text[] NOT NULL,
  description text,
  secret text NOT NULL,
  created_by uuid,
  created_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  deleted_at timestamp(6) with time zone,
  CONSTRAINT webhook_endpoints_created_by_users_id_fk FOREIGN KEY (created_by) REFERENCES users(id),
  CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id)
);
CREATE INDEX webhook_endpoints_live_idx ON public.webhook_endpoints USING btree (created_at DESC NULLS LAST, id DESC NULLS LAST) WHERE (deleted_at IS NULL);

CREATE TYPE lease_outcome AS (
  token_id uuid,
  holder_id uuid,
  leased_at timestamp with time zone,
  expires_at timestamp with time zone,
  created boolean,
  evicted_user_id uuid,
  expired jsonb,
  fence bigint,
  metadata jsonb,
  retry_after integer,
  waiter_id bigint
);

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

CREATE OR REPLACE FUNCTION public.first_lease_end_seconds(p_at timestamp with time zone)
 RETURNS integer
 LANGUAGE sql
AS $function$
  SELECT coalesce((SELECT greatest(1, ceil(extract(epoch FROM t.expires_at - p_at)))::integer
                     FROM tokens t WHERE t.expires_at > p_at ORDER BY t.expires_at, t.id LIMIT 1), 1)
$function$;

CREATE OR REPLACE FUNCTION public.free_beyond(p_ahead integer, p_at timestamp with time zone)
 RETURNS boolean
 LANGUAGE sql
AS $function$
  SELECT (SELECT count(*) FROM (SELECT 1 FROM tokens t WHERE t.leased_at IS NULL LIMIT p_ahead + 1) f)
       + (SELECT count(*) FROM (SELECT 1 FROM tokens t WHERE t.expires_at <= p_at LIMIT p_ahead + 1) e) > p_ahead
$function$;

CREATE OR REPLACE FUNCTION public.lease_one(p_holder uuid, p_ttl_seconds integer, p_exclusive boolean, p_evict boolean, p_metadata jsonb, p_actor uuid, p_ip text, p_user_agent text, p_request_id text, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_wait_seconds integer DEFAULT NULL::integer, p_waiter bigint DEFAULT NULL::bigint, p_line_empty boolean DEFAULT false)
 RETURNS lease_outcome
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_now timestamptz;
  v_open token_leases%ROWTYPE;
  v_token tokens%ROWTYPE;
  v_closed token_leases%ROWTYPE;
  v_lease_id bigint;
  v_evicted uuid;
  v_expired jsonb := '[]'::jsonb;
  v_ahead integer;
  v_waiter bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_holder::text, 0));
  v_now := coalesce(p_at, clock_timestamp());

  SELECT * INTO v_open FROM token_leases l WHERE l.user_id = p_holder AND l.ended_at IS NULL;
  IF FOUND AND v_open.expires_at > v_now THEN
    RETURN (v_open.token_id, v_open.user_id, v_open.leased_at, v_open.expires_at, false, NULL, v_expired,
            v_open.id, v_open.metadata, NULL, NULL)::lease_outcome;
  END IF;

  IF p_exclusive THEN
    -- No other writer of the pool is in flight, so this snapshot is the pool as it is at v_now:
    -- a free token, else one whose lease was over by v_now, unless waiters were promised them all.
    IF p_line_empty THEN
      v_ahead := 0;
    ELSE
      v_ahead := waiters_ahead(coalesce(p_waiter, 9223372036854775807));
    END IF;
    IF v_ahead = 0 OR free_beyond(v_ahead, v_now) THEN
      SELECT * INTO v_token FROM tokens t WHERE t.leased_at IS NULL ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
      IF v_token.id IS NULL THEN
        SELECT * INTO v_token FROM tokens t WHERE t.expires_at <= v_now ORDER BY t.expires_at, t.id LIMIT 1 FOR UPDATE;
      END IF;
    END IF;
    IF v_token.id IS NULL AND p_waiter IS NOT NULL THEN
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL, p_waiter)::lease_outcome;
    END IF;
    IF v_token.id IS NULL AND p_wait_seconds IS NOT NULL THEN
      INSERT INTO lease_waiters (holder_id, actor_id, metadata, ip, user_agent, request_id, alive_until)
        VALUES (p_holder, p_actor, p_metadata, p_ip, p_user_agent, p_request_id, clock_timestamp() + lease_waiter_grace())
        RETURNING id INTO v_waiter;
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL, v_waiter)::lease_outcome;
    END IF;
    IF v_token.id IS NULL AND p_evict THEN
      -- Every lease lasts the same, so the first in lease order is the oldest.
      SELECT * INTO v_token FROM tokens t WHERE t.expires_at > v_now
        ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE;
    END IF;
    IF v_token.id IS NULL THEN
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, first_lease_end_seconds(v_now),
              NULL)::lease_outcome;
    END IF;
  ELSE
    -- A free token, else the one whose lease ended first. Each condition is in WHERE because that
    -- is what PostgreSQL checks again on a row a concurrent transaction changed after this
    -- statement's snapshot (ORDER BY is not checked again): a token leased a moment ago elsewhere
    -- is skipped.
    SELECT * INTO v_token FROM tokens t WHERE t.leased_at IS NULL
      ORDER BY t.leased_at NULLS FIRST, t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      SELECT * INTO v_token FROM tokens t WHERE t.expires_at <= coalesce(p_at, clock_timestamp())
        ORDER BY t.expires_at, t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    -- Every token is held, or being taken or freed by a transaction still in flight: only a caller
    -- holding the pool EXCLUSIVE can tell which, so this one hands the request back untouched.
    IF NOT FOUND THEN
      RETURN (NULL, p_holder, NULL, NULL, false, NULL, v_expired, NULL, NULL, NULL, NULL)::lease_outcome;
    END IF;
    -- The lease begins once its token is locked: a release or clear that freed the token committed
    -- before that, so the history never shows a lease beginning before the one it follows ended.
    v_now := coalesce(p_at, clock_timestamp());
  END IF;

  IF v_open.id IS NOT NULL AND v_open.id IS DISTINCT FROM v_token.lease_id THEN
    -- The holder's last lease is over but still open: it ends at its own expiry, not now.
    UPDATE token_leases l SET ended_at = l.expires_at, end_reason = 'expired'
      WHERE l.id = v_open.id AND l.ended_at IS NULL RETURNING * INTO v_closed;
    IF FOUND THEN
      v_expired := v_expired || jsonb_build_object('tokenId', v_closed.token_id, 'userId', v_closed.user_id, 'endedAt', v_closed.ended_at);
    END IF;
  END IF;

  IF v_token.lease_id IS NOT NULL THEN
    IF v_token.expires_at <= v_now THEN
      UPDATE token_leases l SET ended_at = l.expires_at, end_reason = 'expired'
        WHERE l.id = v_token.lease_id AND l.ended_at IS NULL RETURNING * INTO v_closed;
      -- Not found if the sweep closed it a moment ago, as expired too.
      IF FOUND THEN
        v_expired := v_expired || jsonb_build_object('tokenId', v_closed.token_id, 'userId', v_closed.user_id, 'endedAt', v_closed.ended_at);
      END IF;
    ELSE
      UPDATE token_leases l SET ended_at = v_now, end_reason = 'evicted'
        WHERE l.id = v_token.lease_id AND l.ended_at IS NULL RETURNING * INTO v_closed;
      v_evicted := v_closed.user_id;
    END IF;
  END IF;

  INSERT INTO token_leases (token_id, user_id, leased_at, expires_at, metadata)
    VALUES (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), p_metadata)
    RETURNING id INTO v_lease_id;
  UPDATE tokens t SET holder_id = p_holder, leased_at = v_now,
      expires_at = v_now + make_interval(secs => p_ttl_seconds), lease_id = v_lease_id
    WHERE t.id = v_token.id;

  -- One plain VALUES statement per shape: cheaper to start than one statement for every shape.
  IF jsonb_array_length(v_expired) > 0 THEN
    INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
    SELECT 'token.expired', NULL, 'token', e->>'tokenId', p_ip, p_user_agent, p_request_id,
           jsonb_build_object('userId', e->>'userId', 'endedAt', e->>'endedAt')
      FROM jsonb_array_elements(v_expired) e;
  END IF;
  IF v_evicted IS NOT NULL THEN
    INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
    VALUES ('token.evicted', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
            jsonb_build_object('evictedUserId', v_evicted, 'byUserId', p_holder)),
           ('token.leased', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
            jsonb_build_object('userId', p_holder, 'leaseId', v_lease_id));
  ELSE
    INSERT INTO audit_logs (action, user_id, target_type, target_id, ip, user_agent, request_id, metadata)
    VALUES ('token.leased', p_actor, 'token', v_token.id::text, p_ip, p_user_agent, p_request_id,
            jsonb_build_object('userId', p_holder, 'leaseId', v_lease_id));
  END IF;

  RETURN (v_token.id, p_holder, v_now, v_now + make_interval(secs => p_ttl_seconds), true, v_evicted, v_expired,
          v_lease_id, p_metadata, NULL, NULL)::lease_outcome;
END $function$;

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

CREATE OR REPLACE FUNCTION public.lease_waiter_grace()
 RETURNS interval
 LANGUAGE sql
 IMMUTABLE
AS $function$ SELECT interval '10 seconds' $function$;

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

CREATE OR REPLACE FUNCTION public.waiters_ahead(p_before bigint)
 RETURNS integer
 LANGUAGE sql
AS $function$
  SELECT count(*)::integer FROM lease_waiters w WHERE w.id < p_before AND w.alive_until > clock_timestamp()
$function$;

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

CREATE TRIGGER audit_logs_webhooks AFTER INSERT ON public.audit_logs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION webhooks_enqueue_deliveries();

CREATE TRIGGER tokens_guard_size BEFORE INSERT OR DELETE OR TRUNCATE ON public.tokens FOR EACH STATEMENT EXECUTE FUNCTION tokens_guard_size();
