-- Second factor (TOTP, RFC 6238) with recovery codes (API.md, "Second factor").
-- The TOTP secret is stored only encrypted (AES-256-GCM under MFA_ENCRYPTION_KEY, which
-- never enters the database; shared::mfa), recovery codes only as SHA-256 hashes, and
-- the login challenge (`mfa_token`) as a one-time token of kind `mfa_login`, bound to the
-- account's password, second factor and disabled state. Never edit a migration once
-- applied.

ALTER TABLE users
    -- True once a setup was confirmed with a code; logins then need a second step.
    ADD COLUMN mfa_enabled boolean NOT NULL DEFAULT false,
    -- The confirmed secret, encrypted; set exactly while mfa_enabled.
    ADD COLUMN totp_secret bytea,
    -- A setup not confirmed yet, encrypted; a new setup replaces it, confirming moves it
    -- to totp_secret.
    ADD COLUMN totp_pending_secret bytea,
    -- The last TOTP time step (unix time / 30) accepted for the account: a code counts
    -- only for a later step, so no code is accepted twice.
    ADD COLUMN totp_last_step bigint,
    ADD CONSTRAINT users_mfa_has_secret CHECK (mfa_enabled = (totp_secret IS NOT NULL));

-- Single-use recovery codes: SHA-256 of each normalized code; using one deletes it, a
-- new confirmed setup replaces them all.
CREATE TABLE mfa_recovery_codes (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    PRIMARY KEY (user_id, code_hash)
);
