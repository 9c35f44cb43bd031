-- A unit's queue is read in due order (the workstation, the supervisor's drill-down,
-- the simulation every slot). The first index put the step between the unit and the due
-- instant, so SQLite walked every open application of the country in due order to find
-- one unit's. This one answers "this unit's open work, earliest due first" directly, and
-- serves the unit's other reads (by step, for registries) as well as the old one did:
-- they read the unit's open work whole. One index, not two, to keep up on every step.
DROP INDEX applications_queue;
CREATE INDEX applications_unit_due ON applications (holder_unit, status, step_due_at);
