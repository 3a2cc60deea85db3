-- What the bot last registered with Discord, per application and scope, so a restart with an
-- unchanged command tree sends no sync (Discord limits command creation per day).

CREATE TABLE command_registrations (
    scope          TEXT PRIMARY KEY,  -- "<application id>:global" or "<application id>:guild:<id>"
    payload_sha256 TEXT NOT NULL,
    command_count  INTEGER NOT NULL,
    registered_at  REAL NOT NULL
) WITHOUT ROWID;
