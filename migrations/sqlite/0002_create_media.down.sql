-- Dropping the table drops its indexes and the media_touch trigger.
DROP TABLE media;
