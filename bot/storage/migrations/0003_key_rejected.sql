-- When the provider last answered a key with 401/403: nothing more is sent with it until its
-- owner links it again (linking clears this).

ALTER TABLE api_keys ADD COLUMN rejected_at REAL;
