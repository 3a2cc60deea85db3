-- Providers that call back (seedanceapi's callback_url) are given a URL unique to the job, ending
-- in a random token. Only the token's SHA-256 (hex) is kept: a callback is found by the digest of
-- the token in its path, and the database never holds a usable URL. NULL: no callback expected.

ALTER TABLE jobs ADD COLUMN callback_token_hash TEXT;

CREATE UNIQUE INDEX jobs_callback_token ON jobs (callback_token_hash)
    WHERE callback_token_hash IS NOT NULL;
