-- The audit trail (API.md "Audit events"): what happened to which account, who caused it,
-- from where. Written by shared/src/events.rs in the transaction of the change it
-- records. No foreign keys: events outlive the accounts they concern, until retention
-- (maintenance, AUDIT_RETENTION_DAYS) removes them. Never edit a migration once applied.

CREATE TABLE auth_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    type       text NOT NULL,
    -- The account concerned; NULL for a failed login with an identifier of no account.
    user_id    bigint,
    -- Who caused it: the account itself, an admin, or NULL (the system, or a caller
    -- who is no account).
    actor_id   bigint,
    -- The client IP (see shared/src/client.rs) and User-Agent, as received.
    ip         text,
    user_agent text CHECK (char_length(user_agent) <= 256),
    -- Non-secret particulars (e.g. the old and new role); never a password, token, code
    -- or hash.
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
-- One account's events, newest first (list-my-events, list-events?user_id=).
CREATE INDEX auth_events_user_id_idx ON auth_events (user_id, id);
-- list-events?type=, newest first.
CREATE INDEX auth_events_type_idx ON auth_events (type, id);
-- Retention deletes the oldest; list-events?since= bounds by time.
CREATE INDEX auth_events_at_idx ON auth_events (at);
