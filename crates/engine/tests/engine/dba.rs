//! Issue 32: a DBA queries the tables of a PostgreSQL database the engine wrote in
//! PostgreSQL's own types (migration 28): instants as `timestamptz`, dates as `date`, JSON
//! documents as `jsonb`; and identifiers that are always UUIDs as `uuid` (migration 32).
//! On SQLite the migrations change nothing.

use drn_core::Urgency;
use drn_store::Backend;

use crate::support::*;

/// One text (or NULL) a query with one text parameter reads.
async fn text_of(db: &drn_store::Db, sql: &str, arg: &str) -> Option<String> {
    drn_store::query(sql)
        .bind(arg.to_string())
        .fetch_one(db.reader())
        .await
        .map(|r| r.get::<Option<String>, _>(0))
        .unwrap()
}

/// The application's instant and document, the applicant's birth date and address, and
/// the application's events, each read from the tables in PostgreSQL's types by a query a
/// DBA would write (`now() - interval '1 day'`, `data_json->'…'->>'…'`, a date literal).
async fn a_dba_reads_the_engines_rows_in_postgres_types(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let app = accept(&w, Urgency::General).await;
    if w.db.backend != Backend::Postgres {
        let n = count_of(
            &w.db,
            "SELECT COUNT(*) FROM schema_migrations WHERE version IN (23, 28, 32)",
        )
        .await;
        assert_eq!(n, 3, "the migrations are recorded on SQLite too, as no-ops");
        return;
    }
    let id = app.id.to_string();
    // The day before the instant it was accepted, given as RFC 3339 text.
    let when = app.accepted_at.to_string();
    let n = text_of(
        &w.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM applications \
         WHERE accepted_at > CAST($1 AS timestamptz) - interval '1 day' \
         AND accepted_at <= CAST($1 AS timestamptz)",
        &when,
    )
    .await;
    assert_eq!(n.as_deref(), Some("1"));
    let recent = count_of(
        &w.db,
        "SELECT COUNT(*) FROM applications WHERE accepted_at > now() - interval '1 day'",
    )
    .await;
    assert_eq!(recent, 0, "accepted in 2019, not in the last day");
    // The exact instant, to the microsecond, as PostgreSQL prints it in UTC.
    let exact = text_of(
        &w.db,
        "SELECT to_char(accepted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM applications WHERE id = CAST($1 AS uuid)",
        &id,
    )
    .await
    .unwrap();
    assert_eq!(
        exact,
        app.accepted_at
            .strftime("%Y-%m-%dT%H:%M:%S.%6f")
            .to_string()
    );
    let kinds = text_of(
        &w.db,
        "SELECT pg_typeof(accepted_at)::text || ',' || pg_typeof(data_json)::text || ',' || pg_typeof(id)::text FROM applications WHERE id = CAST($1 AS uuid)",
        &id,
    )
    .await;
    assert_eq!(
        kinds.as_deref(),
        Some("timestamp with time zone,jsonb,uuid")
    );
    // Every column that holds an application's, a registry's, a document's or a draft's
    // id, and only those, is a `uuid`; a unit's and a staff member's stay text.
    let uuids = text_of(
        &w.db,
        "SELECT string_agg(table_name || '.' || column_name, ' ' ORDER BY table_name, column_name) \
         FROM information_schema.columns WHERE table_schema = 'public' AND data_type = $1",
        "uuid",
    )
    .await;
    assert_eq!(
        uuids.as_deref(),
        Some(
            "applications.id applications.registry_id counter_tasks.application_id \
             document_drafts.application_id document_drafts.id document_drafts.registry_id \
             documents.application_id documents.id documents.registry_id events.application_id \
             events.registry_id issued_documents.application_id issued_documents.id \
             journal_entries.application_id online_renewals.application_id \
             registrations.application_id registries.id registry_items.application_id \
             registry_items.registry_id"
        )
    );
    let event_id = text_of(
        &w.db,
        "SELECT pg_typeof(application_id)::text FROM events WHERE application_id = CAST($1 AS uuid) LIMIT 1",
        &id,
    )
    .await;
    assert_eq!(event_id.as_deref(), Some("uuid"));
    let birth = text_of(
        &w.db,
        "SELECT pg_typeof(birth_date)::text FROM persons WHERE iin = $1",
        &w.applicant.to_string(),
    )
    .await;
    assert_eq!(birth.as_deref(), Some("date"));
    let old_views = count_of(
        &w.db,
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'dba'",
    )
    .await;
    assert_eq!(old_views, 0, "the tables themselves are what a DBA reads");
    let iin = w.applicant.to_string();
    let district = text_of(
        &w.db,
        "SELECT data_json->'registration'->>'district' FROM persons WHERE iin = $1 AND birth_date = date '1987-10-08'",
        &iin,
    )
    .await;
    assert_eq!(district.as_deref(), Some("D71-1"));
    let events: i64 = drn_store::query(
        "SELECT COUNT(*) FROM events WHERE application_id = CAST($1 AS uuid) AND at = CAST($2 AS timestamptz)",
    )
    .bind(id.clone())
    .bind(when.clone())
    .fetch_one(w.db.reader())
    .await
    .unwrap()
    .get(0);
    assert!(
        events >= 1,
        "the acceptance's event, at the same instant: {events}"
    );
}
on_both!(
    a_dba_reads_the_engines_rows_in_postgres_types_on_both,
    a_dba_reads_the_engines_rows_in_postgres_types
);

/// A PostgreSQL database written before migration 28 (instants as BIGINT microseconds,
/// dates, JSON documents and identifiers as TEXT, the `dba` views of migration 23 over
/// them) is brought to the native types by `migrate`; the engine then reads what it wrote
/// before exactly: the instant to the microsecond, the date, the JSON document, the ids.
/// An identifier that is not a UUID stops migration 32 with a message naming its table,
/// and nothing of it is applied; once the row is put right, it runs. On SQLite the
/// migrations are no-ops and the same reads hold.
async fn the_migration_moves_an_older_database(url: &str) {
    let w = world(url, "2019-03-20T10:00:00.123456").await;
    let app = accept(&w, Urgency::General).await;
    let person = w
        .engine
        .person(&w.counter, &w.applicant, "test")
        .await
        .unwrap();
    let history = w.engine.timeline(&w.counter, &app.id).await.unwrap();
    if w.db.backend == Backend::Postgres {
        // The foreign keys between identifiers go while their types change back, as
        // migration 32 drops and makes them.
        let keys = drn_store::query(
            "SELECT CAST(CAST(conrelid AS regclass) AS TEXT), CAST(conname AS TEXT), pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE contype = 'f' \
             AND confrelid IN (CAST('applications' AS regclass), CAST('registries' AS regclass))",
        )
        .fetch_all(w.db.reader())
        .await
        .unwrap();
        assert!(keys.len() >= 10, "{} foreign keys", keys.len());
        for k in &keys {
            let (t, name): (String, String) = (k.get(0), k.get(1));
            drn_store::query(format!("ALTER TABLE {t} DROP CONSTRAINT {name}"))
                .execute(w.db.writer())
                .await
                .unwrap();
        }
        // Back to the types every migration before 28 gave the columns.
        for sql in [
            "ALTER TABLE applications DROP CONSTRAINT applications_data_object",
            "ALTER TABLE persons DROP CONSTRAINT persons_data_object",
            "DROP INDEX applications_accepted_at",
        ] {
            drn_store::query(sql).execute(w.db.writer()).await.unwrap();
        }
        let typed =
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT) \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND data_type IN ('timestamp with time zone', 'date', 'jsonb', 'uuid')";
        let cols = drn_store::query(typed)
            .fetch_all(w.db.reader())
            .await
            .unwrap();
        assert!(cols.len() > 40, "{} typed columns", cols.len());
        for c in &cols {
            let (t, col, ty): (String, String, String) = (c.get(0), c.get(1), c.get(2));
            let back = match ty.as_str() {
                "timestamp with time zone" => format!(
                    "BIGINT USING CAST(EXTRACT(EPOCH FROM {col} - timestamptz 'epoch') * 1000000 AS BIGINT)"
                ),
                _ => format!("TEXT USING CAST({col} AS TEXT)"),
            };
            drn_store::query(format!("ALTER TABLE {t} ALTER COLUMN {col} TYPE {back}"))
                .execute(w.db.writer())
                .await
                .unwrap();
        }
        let left = drn_store::query(typed)
            .fetch_all(w.db.reader())
            .await
            .unwrap();
        assert!(left.is_empty());
        for k in &keys {
            let (t, name, def): (String, String, String) = (k.get(0), k.get(1), k.get(2));
            drn_store::query(format!("ALTER TABLE {t} ADD CONSTRAINT {name} {def}"))
                .execute(w.db.writer())
                .await
                .unwrap();
        }
        // Migration 23's function, index and views, as an older database has them.
        for sql in [
            "CREATE FUNCTION drn_instant(bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT AS 'SELECT timestamptz ''epoch'' + $1 * interval ''1 microsecond'''",
            "CREATE INDEX applications_accepted_instant ON applications (drn_instant(accepted_at))",
            "CREATE SCHEMA dba",
            "CREATE VIEW dba.applications AS SELECT id, drn_instant(accepted_at) AS accepted_at, CAST(data_json AS jsonb) AS data FROM public.applications",
        ] {
            drn_store::query(sql).execute(w.db.writer()).await.unwrap();
        }
    }
    drn_store::query("DELETE FROM schema_migrations WHERE version IN (28, 32)")
        .execute(w.db.writer())
        .await
        .unwrap();
    if w.db.backend == Backend::Postgres {
        // A renewal that names its application by something not a UUID (the column has no
        // foreign key): migration 28 runs, 32 stops and changes nothing.
        drn_store::query(
            "INSERT INTO online_renewals (id, applicant_iin, status, step, application_id, created_at, updated_at, revision, data_json) \
             VALUES ('odd', $1, 'open', 1, 'K-1', 0, 0, 1, '{}')",
        )
        .bind(w.applicant.to_string())
        .execute(w.db.writer())
        .await
        .unwrap();
        let e = w.db.migrate().await.unwrap_err().to_string();
        assert!(
            e.contains("migration 32") && e.contains("online_renewals") && e.contains("K-1"),
            "{e}"
        );
        let still = text_of(
            &w.db,
            "SELECT CAST(data_type AS TEXT) FROM information_schema.columns WHERE table_name = 'applications' AND column_name = $1",
            "id",
        )
        .await;
        assert_eq!(still.as_deref(), Some("text"), "nothing of 32 is applied");
        drn_store::query("DELETE FROM online_renewals WHERE id = 'odd'")
            .execute(w.db.writer())
            .await
            .unwrap();
        assert_eq!(w.db.migrate().await.unwrap(), 1);
    } else {
        assert_eq!(w.db.migrate().await.unwrap(), 2);
    }
    let back = w
        .engine
        .application(&w.counter, &app.id, "test")
        .await
        .unwrap();
    assert_eq!(back.id, app.id);
    assert_eq!(
        w.engine.timeline(&w.counter, &app.id).await.unwrap(),
        history
    );
    assert_eq!(back.accepted_at, app.accepted_at);
    assert_eq!(back.accepted_at.subsec_microsecond(), 123_456);
    assert_eq!(back.number, app.number);
    assert_eq!(back.data, app.data);
    assert_eq!(back.due_at, app.due_at);
    let again = w
        .engine
        .person(&w.counter, &w.applicant, "test")
        .await
        .unwrap();
    assert_eq!(again.birth_date, person.birth_date);
    assert_eq!(again.data, person.data);
    if w.db.backend == Backend::Postgres {
        let n = text_of(
            &w.db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM applications WHERE accepted_at = CAST($1 AS timestamptz) \
             AND pg_typeof(accepted_at) = CAST('timestamptz' AS regtype) AND pg_typeof(id) = CAST('uuid' AS regtype)",
            &app.accepted_at.to_string(),
        )
        .await;
        assert_eq!(n.as_deref(), Some("1"));
    }
}
on_both!(
    the_migration_moves_an_older_database_on_both,
    the_migration_moves_an_older_database
);
