-- The step an application enters on a registry's receipt is written on its registry item
-- (the step and its due instant), not as an event of its own: the receipt is already one
-- event, the registry's (migration 0011), and an ID card enters seven of its steps so.
-- A step's end (completed, refused) carries when the step was entered, so that the step
-- times need no entry event. Older rows keep their entry events and read as before.
ALTER TABLE registry_items ADD COLUMN received_step BIGINT;
ALTER TABLE registry_items ADD COLUMN received_due_at BIGINT;
ALTER TABLE events ADD COLUMN entered_at BIGINT;
