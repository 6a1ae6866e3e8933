-- Verified email and account recovery: one-time tokens of every kind, the mail outbox,
-- and the per-account record of mail asked for by mail-only routes.
-- Never edit a migration once applied: add a new V<n>__<what>.sql instead.

ALTER TABLE users
    -- True once a link mailed to `email` was used (verification or password reset).
    -- Any change of `email` sets it back to false.
    ADD COLUMN email_verified boolean NOT NULL DEFAULT false,
    -- A new email asked for but not yet proven: `email` stays in use for login and
    -- recovery until the verification link sent here is used. Lower-cased; not unique
    -- (two accounts may ask for one address; the first to verify it wins it).
    ADD COLUMN pending_email text CHECK (pending_email = lower(pending_email)),
    ADD CONSTRAINT users_verified_needs_email CHECK (email IS NOT NULL OR NOT email_verified);

-- Single-use secrets sent by mail (and later kinds, e.g. MFA challenges). Only the
-- SHA-256 of the token is stored: a leaked table opens no account.
CREATE TABLE one_time_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- SHA-256 of the token (32 random bytes, URL-safe base64 on the wire); looked up by
    -- this hash, so the token itself is never compared.
    token_hash    bytea NOT NULL CHECK (octet_length(token_hash) = 32),
    -- The account it acts on; tokens go with the account.
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- verify_email, revert_email, reset_password, ... (shared::one_time_tokens::Kind).
    kind          text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    -- The address the token was mailed to (NULL for kinds not sent by mail). A verify or
    -- reset token is void once this is no longer the account's (pending) email.
    email         text,
    -- For kinds a password change voids (reset_password): SHA-256 of the password hash
    -- at issue; the token is void once the account's hash differs. NULL otherwise.
    bound_state   bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- After this the token is refused; maintenance deletes it.
    expires_at    timestamptz NOT NULL,
    -- Set when the token is spent; it is refused from then on.
    used_at       timestamptz,
    -- Set when a newer token of the same kind was issued to the same account.
    superseded_at timestamptz
);
CREATE UNIQUE INDEX one_time_tokens_token_hash_key ON one_time_tokens (token_hash);
-- At most one live token per account and kind: the database backs the superseding.
CREATE UNIQUE INDEX one_time_tokens_live_key ON one_time_tokens (user_id, kind)
    WHERE used_at IS NULL AND superseded_at IS NULL;
-- Maintenance deletes expired tokens in bounded batches.
CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);

-- Mail waiting to leave, written in the same transaction as the change that causes it and
-- delivered by `maintenance` over SMTP; never sent inline by a request.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One recipient address.
    recipient       text NOT NULL,
    subject         text NOT NULL CHECK (char_length(subject) <= 200),
    -- Plain text. May hold a link with a live token (see holds_token).
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Delivery attempts so far.
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When maintenance may try (again); claiming moves it forward by a lease, a failure
    -- by the backoff.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- When the server accepted it (rows that hold no token are kept a day, then deleted).
    sent_at         timestamptz,
    -- True when the body holds a live token: the row is deleted as soon as it is
    -- delivered, and dropped undelivered once the token expires.
    holds_token     boolean NOT NULL,
    -- After this the mail is no longer worth sending (its token expired, or it could not
    -- be delivered for days); maintenance deletes it.
    expires_at      timestamptz NOT NULL,
    -- The last failure, as the SMTP client reported it (never the body).
    last_error      text CHECK (char_length(last_error) <= 500)
);
-- Maintenance picks due mail in this order.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Mail asked for through a mail-only route (resend-verification, forgot-password, the
-- admin's send-password-reset), for the per-account caps: 1 per 60 s, 5 per hour, 20 per
-- day. Maintenance deletes rows older than a day.
CREATE TABLE mail_requests (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_requests_user_id_idx ON mail_requests (user_id, requested_at);
CREATE INDEX mail_requests_requested_at_idx ON mail_requests (requested_at);
