//! Issue 32: a DBA queries a PostgreSQL database the engine wrote with PostgreSQL's own
//! types, through the schema `dba` (migration 23): instants as `timestamptz`, dates as
//! `date`, JSON documents as `jsonb`. On SQLite the migration changes nothing.

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
/// the application's events, each read in PostgreSQL's types by a query a DBA would write
/// (`now() - interval '1 day'`, `data->'…'->>'…'`, a date literal).
async fn a_dba_reads_the_engines_rows_in_postgres_types(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let app = accept(&w, Urgency::General).await;
    if w.db.backend != Backend::Postgres {
        let n = count_of(
            &w.db,
            "SELECT COUNT(*) FROM schema_migrations WHERE version = 23",
        )
        .await;
        assert_eq!(n, 1, "the migration is recorded on SQLite too, as a no-op");
        return;
    }
    let id = app.id.to_string();
    // The day before the instant it was accepted, given as RFC 3339 text.
    let when = app.accepted_at.to_string();
    let n = text_of(
        &w.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM dba.applications \
         WHERE accepted_at > CAST($1 AS timestamptz) - interval '1 day' \
         AND accepted_at <= CAST($1 AS timestamptz)",
        &when,
    )
    .await;
    assert_eq!(n.as_deref(), Some("1"));
    let recent = count_of(
        &w.db,
        "SELECT COUNT(*) FROM dba.applications WHERE accepted_at > now() - interval '1 day'",
    )
    .await;
    assert_eq!(recent, 0, "accepted in 2019, not in the last day");
    // The exact instant, to the microsecond, as PostgreSQL prints it in UTC.
    let exact = text_of(
        &w.db,
        "SELECT to_char(accepted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM dba.applications WHERE id = $1",
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
        "SELECT pg_typeof(accepted_at)::text || ',' || pg_typeof(data)::text FROM dba.applications WHERE id = $1",
        &id,
    )
    .await;
    assert_eq!(kinds.as_deref(), Some("timestamp with time zone,jsonb"));
    let iin = w.applicant.to_string();
    let district = text_of(
        &w.db,
        "SELECT data->'registration'->>'district' FROM dba.persons WHERE iin = $1 AND birth_date = date '1987-10-08'",
        &iin,
    )
    .await;
    assert_eq!(district.as_deref(), Some("D71-1"));
    let events: i64 = drn_store::query(
        "SELECT COUNT(*) FROM dba.events WHERE application_id = $1 AND at = CAST($2 AS timestamptz)",
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

/// A database at the previous level (21: no `dba` schema, no `drn_instant`, no index) with
/// an application in it is brought to level 23 by `migrate`; the engine then reads the
/// application as before and the DBA's view shows it.
async fn the_migration_moves_an_older_database(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let app = accept(&w, Urgency::General).await;
    if w.db.backend == Backend::Postgres {
        for sql in [
            "DROP SCHEMA dba CASCADE",
            "DROP FUNCTION drn_instant(bigint) CASCADE",
        ] {
            drn_store::query(sql).execute(w.db.writer()).await.unwrap();
        }
    }
    drn_store::query("DELETE FROM schema_migrations WHERE version = 23")
        .execute(w.db.writer())
        .await
        .unwrap();
    assert_eq!(w.db.migrate().await.unwrap(), 1);
    let back = w
        .engine
        .application(&w.counter, &app.id, "test")
        .await
        .unwrap();
    assert_eq!(back.accepted_at, app.accepted_at);
    assert_eq!(back.number, app.number);
    if w.db.backend == Backend::Postgres {
        let n = text_of(
            &w.db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM dba.applications WHERE accepted_at = CAST($1 AS timestamptz)",
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
