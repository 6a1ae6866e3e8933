-- An admin can disable an account (API.md, update-user): its sessions are revoked in the
-- same transaction, and no route opens a session for it until it is enabled again.
-- The unused V1 lock columns go: the guessing lock lives in login_locks (V4).
-- Never edit a migration once applied.

ALTER TABLE users
    ADD COLUMN disabled boolean NOT NULL DEFAULT false,
    DROP COLUMN failed_logins,
    DROP COLUMN locked_until;
