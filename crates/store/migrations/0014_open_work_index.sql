-- Open applications are found through one index, as before (migration 0012), but it now
-- holds only the open ones and every column their reads filter on.
--
-- 1. Partial: issued, refused and annulled applications are most of the table and never
--    read by unit, yet each kept its entry, and closing an application moved its entry
--    rather than dropping it. A year of national intake put 2.9 million entries in it for
--    some 60,000 open ones.
-- 2. Covering the filters: a unit's work list skips what waits for a registry (the
--    handover steps, by service/version/process/step) and what entered at the same
--    instant. With only the unit, status and due instant in the index, SQLite read each
--    skipped application's row from the table: a district read some 300 rows a slot to
--    return two. With the filtered columns in the entry, it fetches the row only for
--    what it returns. SQLite tests the terms the index covers first. The registry a
--    row waits in (`registry_id`) is left out: forming a registry sets it on each of
--    its applications, which would move each one's entry, and it is rarely set outside
--    the evening's forming and sending.
-- 3. Ordered: the reads take a unit's work by due instant, then by when it entered the
--    step (`ORDER BY step_due_at, step_entered_at`): the index gives that order, so a
--    LIMIT stops early. Ties were broken by the row's place in the table before; now
--    what waited longer for the same due instant comes first.
--
-- The predicate is written three ways on purpose. SQLite uses a partial index only when
-- a term of the query's WHERE appears, as written, as a term of the index's OR-connected
-- WHERE: the reads say `status = 'in_progress'` or `status IN ('in_progress',
-- 'in_transit')`. PostgreSQL proves either from any one of them.
DROP INDEX applications_unit_due;
CREATE INDEX applications_open ON applications
    (holder_unit, status, step_due_at, step_entered_at, service, version, process, step)
    WHERE status = 'in_progress' OR status = 'in_transit' OR status IN ('in_progress', 'in_transit');
