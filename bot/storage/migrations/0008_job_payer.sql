-- Whose key pays for a job, and whether its messages are private to its owner.
--
-- paid_by: the api_keys.user_id of the key that pays when it is not the owner's own (NULL).
-- A server's sponsor key is stored in api_keys like a member's, encrypted the same way, under
-- the negated server id (Discord ids are positive, so it can never be a member's); the engine
-- submits and polls the job with that key.
--
-- private: 1 when the server keeps cards and results private: the card and the result are in
-- the owner's DMs (channel_id is the DM channel; guild_id stays the server the job belongs to).

ALTER TABLE jobs ADD COLUMN paid_by INTEGER;

ALTER TABLE jobs ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
