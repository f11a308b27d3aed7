-- Dropping the table drops its indexes and the events_touch trigger.
DROP TABLE events;
