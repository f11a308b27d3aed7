-- Dropping the table drops its indexes, constraints and the events_touch trigger.
DROP TABLE events;
DROP FUNCTION evstore_events_touch();
