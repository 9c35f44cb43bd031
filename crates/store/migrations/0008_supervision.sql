-- The supervisor's step times and daily trend read events by kind over a date range.
CREATE INDEX events_kind_at ON events (kind, at);
