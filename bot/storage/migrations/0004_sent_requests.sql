-- Requests recently sent with each API key, so that a restart within a provider's rate window
-- still counts them (bot/jobs/budget.py). The key is named by a digest (the first 16 hex digits
-- of its SHA-256, as the budgets and metrics name it), never stored; rows older than the
-- longest window are deleted as new ones are written.

CREATE TABLE sent_requests (
    provider    TEXT NOT NULL,
    key_digest  TEXT NOT NULL,
    sent_at     REAL NOT NULL
);

-- Reading back the last window at start-up, and pruning what is older.
CREATE INDEX sent_requests_sent_at ON sent_requests (sent_at);
