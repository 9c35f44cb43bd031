-- A unit's queue is read in due order (the workstation, the supervisor's drill-down,
-- the simulation every slot): with the step between unit and due instant in the first
-- index, SQLite walked every open application of the country in due order to find one
-- unit's. This one answers "this unit's open work, earliest due first" directly.
CREATE INDEX applications_unit_due ON applications (holder_unit, status, step_due_at);
