-- Each member's own defaults for /video and /image (/preferences), applied where they leave an
-- option empty: a model per kind (a /video or /image model key), an aspect ratio, and whether
-- their cards and results are kept private (sent to their DMs). NULL: no preference.

CREATE TABLE member_preferences (
    user_id          INTEGER PRIMARY KEY,
    video_model      TEXT,
    image_model      TEXT,
    aspect_ratio     TEXT,
    private_results  INTEGER,  -- 1: private; 0 or NULL: as the server decides
    updated_at       REAL    NOT NULL
);
