-- Contacts: each user's own address book. A contact belongs to exactly one user and goes
-- with them. Every query names the owner, so one user can never read another's rows.
-- Never edit a migration once applied: add a new V<n>__<what>.sql instead.

-- Trigram indexes for case-insensitive substring search (ILIKE '%...%'). A trusted
-- extension: the database owner may create it (also on Amazon RDS).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE contacts (
    -- The contact's id in URLs (/contacts/{id}); unique across all users.
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The user whose address book this is; deleting the user deletes their contacts.
    owner_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Required, trimmed, 1 to 100 characters.
    first_name text NOT NULL CHECK (char_length(first_name) BETWEEN 1 AND 100),
    -- Required, trimmed, 1 to 100 characters.
    last_name  text NOT NULL CHECK (char_length(last_name) BETWEEN 1 AND 100),
    -- Optional; stored lower-cased. Not unique: two contacts may share an address.
    email      text CHECK (email = lower(email) AND char_length(email) <= 254),
    -- Optional; E.164 like users' phones. Not unique.
    phone      text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    -- Optional date of birth; never in the future when written (checked by the app
    -- against the UTC date, as a CHECK may not depend on the clock).
    birthday   date,
    -- Optional free text, trimmed, at most 2000 characters; an empty note is NULL.
    notes      text CHECK (char_length(notes) BETWEEN 1 AND 2000),
    -- When the contact was created.
    created_at timestamptz NOT NULL DEFAULT now(),
    -- When the contact was last changed: moves on every update that names a field.
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Listing a user's contacts in id order, a page at a time, and counting them (an
-- index-only scan); also what ON DELETE CASCADE from users uses.
CREATE INDEX contacts_owner_id_idx ON contacts (owner_id, id);

-- Substring search: the first_name, last_name and email filters and q across the three
-- (ILIKE '%term%', AND-combined). One GIN index over the three columns serves any mix of
-- them; patterns of fewer than 3 characters have no trigrams and are scanned instead.
-- When the owner has few contacts the planner combines it with contacts_owner_id_idx.
CREATE INDEX contacts_search_trgm_idx ON contacts
    USING gin (first_name gin_trgm_ops, last_name gin_trgm_ops, email gin_trgm_ops);

-- A date's month and day as one number, 1 January = 101 to 31 December = 1231: the key on
-- which birthdays recur every year.
CREATE FUNCTION month_day(d date) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN extract(month FROM d)::integer * 100 + extract(day FROM d)::integer;

-- Upcoming birthdays: the owner's contacts whose birthday falls on one of the month-days
-- of the requested window, without computing every contact's next birthday.
CREATE INDEX contacts_birthday_idx ON contacts (owner_id, month_day(birthday))
    WHERE birthday IS NOT NULL;
