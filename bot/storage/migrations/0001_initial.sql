-- Linked API keys, jobs, per-guild settings and learned generation times.

CREATE TABLE api_keys (
    user_id      INTEGER NOT NULL,
    provider     TEXT    NOT NULL,
    ciphertext   BLOB    NOT NULL,  -- Fernet token: authenticated encryption of the key
    fingerprint  TEXT    NOT NULL,  -- last characters, shown to the user without decrypting
    verified_at  REAL,
    created_at   REAL    NOT NULL,
    updated_at   REAL    NOT NULL,
    PRIMARY KEY (user_id, provider)
) WITHOUT ROWID;

CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    owner_id           INTEGER NOT NULL,
    guild_id           INTEGER,
    channel_id         INTEGER,
    thread_id          INTEGER,
    message_id         INTEGER,
    provider           TEXT    NOT NULL,
    endpoint           TEXT    NOT NULL,
    request_json       TEXT    NOT NULL,
    idempotency_key    TEXT    NOT NULL UNIQUE,
    remote_task_id     TEXT,
    state              TEXT    NOT NULL,
    created_at         REAL    NOT NULL,
    updated_at         REAL    NOT NULL,
    submitted_at       REAL,
    finished_at        REAL,
    delivered_at       REAL,
    next_poll_at       REAL,
    submit_attempts    INTEGER NOT NULL DEFAULT 0,
    poll_count         INTEGER NOT NULL DEFAULT 0,
    delivery_attempts  INTEGER NOT NULL DEFAULT 0,
    next_delivery_at   REAL,
    delivery_state     TEXT    NOT NULL DEFAULT 'pending',
    video_url          TEXT,
    image_urls_json    TEXT    NOT NULL DEFAULT '[]',
    last_frame_url     TEXT,
    seed               INTEGER,
    credits_charged    INTEGER,
    credits_refunded   INTEGER,
    error_code         TEXT,
    error_message      TEXT,
    raw_json           TEXT
);

-- "Which jobs are due": unfinished states ordered by their next action.
CREATE INDEX jobs_due ON jobs (state, next_poll_at);
-- "This user's recent jobs" and the per-user running cap.
CREATE INDEX jobs_owner_recent ON jobs (owner_id, created_at DESC);

CREATE TABLE guild_settings (
    guild_id              INTEGER PRIMARY KEY,
    max_running_per_user  INTEGER,  -- NULL: the bot-wide default
    allowed_providers     TEXT,     -- NULL: all; else a comma-separated list
    updated_at            REAL    NOT NULL
);

-- Learned time from submit to finish per endpoint and size class, for the poll scheduler.
CREATE TABLE generation_times (
    endpoint      TEXT    NOT NULL,
    size_class    TEXT    NOT NULL,
    samples       INTEGER NOT NULL,
    mean_seconds  REAL    NOT NULL,
    PRIMARY KEY (endpoint, size_class)
) WITHOUT ROWID;
