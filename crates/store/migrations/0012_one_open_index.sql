-- Open applications are found through one index, by unit. `applications_due` (status,
-- due instant) was a second copy of what `applications_unit_due` (unit, status, due
-- instant) holds, kept up on every step: two more index writes per step, on random pages.
-- The country's open work is read unit by unit instead (`holder_unit IN (SELECT id FROM
-- units)`: a seek per unit into the one index), and the planner can no longer pick the
-- status index and walk every open application for a unit's read.
DROP INDEX applications_due;
