-- Dropping the table drops its indexes, constraints and the media_touch trigger.
DROP TABLE media;
DROP FUNCTION evstore_media_touch();
