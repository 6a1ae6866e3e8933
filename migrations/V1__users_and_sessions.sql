-- Users, the identifiers they log in with, and their sessions.
-- Never edit a migration once applied: add a new V<n>__<what>.sql instead.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What the user logs in with; unique case-insensitively (users_login_key).
    login         text NOT NULL CHECK (char_length(login) BETWEEN 3 AND 254),
    -- Display name, optional.
    name          text CHECK (char_length(name) <= 100),
    -- Stored lower-cased; unique.
    email         text CHECK (email = lower(email)),
    -- E.164; unique.
    phone         text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    -- scrypt PHC string; never leaves the database except to be verified.
    password_hash text NOT NULL CHECK (password_hash LIKE '$scrypt$%'),
    -- Consecutive failed logins; reset by a successful one.
    failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    -- While in the future, logins are refused with 429 without checking the password.
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_login_key ON users (lower(login));
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_phone_key ON users (phone);

-- One row per distinct identifier (login, email, phone) of every user, lower-cased, so an
-- identifier names at most one account across all three kinds: nobody can register a
-- login equal to someone else's email. Kept by the trigger below; login looks up here.
CREATE TABLE user_identifiers (
    value   text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX user_identifiers_user_id_idx ON user_identifiers (user_id);

CREATE FUNCTION sync_user_identifiers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_identifiers WHERE user_id = NEW.id;
    INSERT INTO user_identifiers (value, user_id)
    SELECT DISTINCT lower(v), NEW.id
    FROM unnest(ARRAY[NEW.login, NEW.email, NEW.phone]) AS v
    WHERE v IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_sync_identifiers
    AFTER INSERT OR UPDATE OF login, email, phone ON users
    FOR EACH ROW EXECUTE FUNCTION sync_user_identifiers();

-- One row per login: a refresh-token family. Access tokens are honoured only while their
-- session is live; refresh tokens only while their jti is the current one.
CREATE TABLE sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- jti of the one refresh token that may rotate this session next.
    refresh_jti    uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    refreshed_at   timestamptz,
    -- Refreshing moves this forward by REFRESH_TOKEN_TTL.
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    -- logout, logout_all, refresh_token_reused, password_changed, ...
    revoked_reason text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
