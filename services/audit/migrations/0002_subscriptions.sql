-- Webhook subscriptions (issue 3): who gets which events by HTTP POST, and
-- how far each has got. Rows are never deleted; disabling is a state change.
CREATE TABLE subscriptions (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    url             text NOT NULL,
    -- an event goes out when its type starts with one of these ('{}' = all)
    type_prefixes   text[] NOT NULL DEFAULT '{}',
    -- "whsec_" + base64 of the 32-byte HMAC key. Needed to sign deliveries,
    -- so it is kept; it leaves this schema only in the reply that creates it.
    secret          text NOT NULL,
    -- SHA-256 (hex) of the secret as given to the subscriber: how a bearer
    -- credential on GET /api/v1/events is looked up
    secret_sha256   text NOT NULL CONSTRAINT subscriptions_secret_sha256_key UNIQUE,
    -- the last log seq dealt with: delivered, or passed over as not matching
    cursor          bigint NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    -- bumped by a replay, so a delivery begun before it cannot move the cursor
    epoch           bigint NOT NULL DEFAULT 0,
    disabled        boolean NOT NULL DEFAULT false,
    delivered       bigint NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0, -- failed attempts in a row
    last_attempt_at timestamptz,
    last_success_at timestamptz,
    last_error      text,
    failing_since   timestamptz,
    next_attempt_at timestamptz,
    created_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);

CREATE TRIGGER subscriptions_no_delete BEFORE DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- the public JSON of a subscription; never the secret
CREATE FUNCTION subscription_doc(s subscriptions) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'name', s.name, 'url', s.url,
        'type_prefixes', to_jsonb(s.type_prefixes), 'cursor', s.cursor,
        'disabled', s.disabled, 'delivered', s.delivered, 'attempts', s.attempts,
        'last_attempt_at', rfc3339(s.last_attempt_at),
        'last_success_at', rfc3339(s.last_success_at), 'last_error', s.last_error,
        'failing_since', rfc3339(s.failing_since),
        'next_attempt_at', rfc3339(s.next_attempt_at), 'created_by', s.created_by,
        'created_at', rfc3339(s.created_at), 'updated_at', rfc3339(s.updated_at),
        'disabled_at', rfc3339(s.disabled_at))
$$;

-- whether an event type is one a subscription asked for
CREATE FUNCTION subscription_wants(prefixes text[], type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT cardinality(prefixes) = 0
        OR EXISTS (SELECT 1 FROM unnest(prefixes) p WHERE starts_with(type, p))
$$;
