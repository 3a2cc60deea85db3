-- What a server's admins decide for generating there (/settings). The table of 0001 was never
-- written (only read, giving defaults), so it is rebuilt with the settings in use: the
-- per-member limits, whether cards and results go to the member privately, and the audit
-- channel. Its per-member running cap is kept; the provider list it had is replaced by the
-- allowed models below. NULL everywhere means "as the bot does without settings".

CREATE TABLE guild_settings_new (
    guild_id              INTEGER PRIMARY KEY,
    max_running_per_user  INTEGER,  -- jobs of one member sent at once; NULL: the bot's setting
    max_waiting_per_user  INTEGER,  -- jobs of one member waiting to be sent; NULL: the bot's
    max_jobs_per_day      INTEGER,  -- jobs of one member here in any 24 hours; NULL: no limit
    private_results       INTEGER NOT NULL DEFAULT 0,  -- 1: cards and results in the member's DMs
    audit_channel_id      INTEGER,  -- one line per finished job goes there; NULL: none
    updated_at            REAL    NOT NULL
);

INSERT INTO guild_settings_new (guild_id, max_running_per_user, updated_at)
    SELECT guild_id, max_running_per_user, updated_at FROM guild_settings;

DROP TABLE guild_settings;

ALTER TABLE guild_settings_new RENAME TO guild_settings;

-- Where and with what members may generate: channels, roles and models (a /video or /image
-- model key). No row of a kind: no restriction of that kind.
CREATE TABLE guild_allowed (
    guild_id  INTEGER NOT NULL,
    kind      TEXT    NOT NULL,  -- 'channel', 'role' or 'model'
    value     TEXT    NOT NULL,  -- the channel or role id, or the model key
    PRIMARY KEY (guild_id, kind, value)
) WITHOUT ROWID;

-- Credits are each provider's own unit, so caps are per provider: what one member, and the
-- whole server, may spend in any 24 hours. NULL: no cap.
CREATE TABLE guild_credit_caps (
    guild_id    INTEGER NOT NULL,
    provider    TEXT    NOT NULL,
    per_member  INTEGER,
    per_server  INTEGER,
    PRIMARY KEY (guild_id, provider)
) WITHOUT ROWID;

-- "This server's jobs since ...": daily limits, credit caps and /settings usage.
CREATE INDEX jobs_guild_recent ON jobs (guild_id, created_at);
