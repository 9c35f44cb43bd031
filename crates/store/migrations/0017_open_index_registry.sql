-- The open applications' index (migration 0014) now ends with the registry an application
-- waits in (`registry_id`), so that what reads a unit's open applications whole, the
-- count of what each unit holds and not in transit (the supervisor's backlog) and the
-- list of what waits for a registry, need no row from the table: in a simulated day those
-- two read some 60,000 rows for counts alone. Forming a registry now rewrites each of its
-- applications' entries, but in place: the registry is the entry's last column, so the
-- entry keeps its page (the unit's, the step's), which the forming touches anyway.
DROP INDEX applications_open;
CREATE INDEX applications_open ON applications
    (holder_unit, status, step_due_at, step_entered_at, service, version, process, step, registry_id)
    WHERE status = 'in_progress' OR status = 'in_transit' OR status IN ('in_progress', 'in_transit');
