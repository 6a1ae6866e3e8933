-- How each session's login was authenticated (RFC 8176 method names: "pwd", and "otp"
-- after a second factor), carried by its access tokens as `amr` next to `auth_time`
-- (the session's created_at), and kept by every refresh. Sessions opened before this
-- migration were password logins. Never edit a migration once applied.

ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}';
