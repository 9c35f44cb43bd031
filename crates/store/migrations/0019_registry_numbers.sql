-- Issue 28 item 6. An incoming number is given once in a receiving unit's book of a year
-- (книга учета входящих сводных реестров): the year of the receipt is kept with it, and
-- the index refuses a second registry received under the same number there (rows from
-- before this migration have no year and are not compared). The registry of manufactured
-- documents (реестр изготовленных документов) lists each manufactured document's number,
-- given when production forms it and kept on the item; the document is issued under it.
ALTER TABLE registries ADD COLUMN incoming_year INTEGER;
CREATE UNIQUE INDEX registries_incoming_once ON registries (to_unit, incoming_year, incoming_number);
ALTER TABLE registry_items ADD COLUMN document_number TEXT;
