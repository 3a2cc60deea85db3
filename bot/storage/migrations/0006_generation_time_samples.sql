-- Learned generation times become a distribution: besides the count and the mean, each endpoint
-- and size class keeps the durations of its most recent finished jobs (a JSON array of seconds,
-- oldest first), from which the poll planner works out quantiles and the status card its ETA.
-- A row learned before this keeps its mean as its one recent duration.

ALTER TABLE generation_times ADD COLUMN recent_json TEXT NOT NULL DEFAULT '[]';

UPDATE generation_times SET recent_json = '[' || mean_seconds || ']';
