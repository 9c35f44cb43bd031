-- In transit (в пути) is the state of a registry, not written on each of its applications.
--
-- Sending a registry set `status = 'in_transit'` on every application in it (some 300 a
-- registry in a national day) and so moved each one's entry in `applications_open`; its
-- receipt then moved them all again. Now an application's row keeps `in_progress` while
-- it is in a registry, and it reads as `in_transit` while that registry's status is
-- `sent` (the engine's `rows::app_cols`). The rows written the old way are brought to
-- the new reading; what they say does not change.
UPDATE applications SET status = 'in_progress' WHERE status = 'in_transit';
