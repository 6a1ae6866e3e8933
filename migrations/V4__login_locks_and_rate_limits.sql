-- Password-guessing locks (per account and client IP, plus a cross-IP cap) and per-IP
-- request limits, shared by every function instance. See shared/src/credentials.rs and
-- shared/src/ratelimit.rs. Never edit a migration once applied.
-- (users.failed_logins and users.locked_until from V1 are no longer read or written.)

CREATE TABLE login_locks (
    -- Whose lock: 'user:<id>' for an account, 'id:<sha-256 hex>' for an identifier that
    -- names no account (the identifier itself is never stored).
    subject      text NOT NULL,
    -- The client IP (IPv6 by /64) the failures came from; '*' is the cross-IP row.
    ip           text NOT NULL,
    -- The account, for clearing and for cascading with it; NULL for unknown identifiers.
    user_id      bigint REFERENCES users (id) ON DELETE CASCADE,
    -- Consecutive attempts counted (before evaluation) and not given back by a success.
    failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- While in the future, attempts are refused with 429 without evaluating anything.
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, ip)
);
CREATE INDEX login_locks_user_id_idx ON login_locks (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX login_locks_updated_at_idx ON login_locks (updated_at);

CREATE TABLE ip_rate_limits (
    -- Which limit: the route's name (login, register, forgot-password, ...).
    bucket       text NOT NULL,
    -- The client IP (IPv6 by /64).
    ip           text NOT NULL,
    -- The start of the current one-minute window.
    window_start timestamptz NOT NULL,
    -- Requests seen in that window.
    hits         integer NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (bucket, ip)
);
CREATE INDEX ip_rate_limits_window_start_idx ON ip_rate_limits (window_start);
