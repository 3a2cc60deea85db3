-- The language a job's messages are shown in, so a card edited hours later by the engine, or a
-- result posted after a restart, reads as the command's own answer did.
--
-- locale: the Discord locale (e.g. 'nl', 'ja', 'zh-CN') of the card and the result: the
-- server's preferred locale for a public card, the member's own for a private one (in their
-- DMs). owner_locale: the member's own, for what only they read (a result sent to their DMs
-- when it cannot be posted where it was asked for). NULL: English (jobs from before).

ALTER TABLE jobs ADD COLUMN locale TEXT;

ALTER TABLE jobs ADD COLUMN owner_locale TEXT;
