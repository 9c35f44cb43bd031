//! The supervisor's dashboard, its CSV export, and /metrics.

use drn_engine::Role;

use crate::support::*;

/// The supervisor's dashboard with its SVG charts and CSV export, and /metrics after
/// requests and commands (who may read it, and the series).
async fn supervision_and_metrics(url: &str) {
    let app = spawn_app(url).await;
    let n = drn_engine::demo::seed_history(&app.state.engine, &app.report)
        .await
        .unwrap();
    assert!(n > 0);
    let sup = app.login("supervisor").await;
    let html = page(&sup, "/ws/supervision").await;
    assert!(
        html.contains("<svg") && html.contains("id=\"trend-chart\""),
        "{html}"
    );
    assert!(html.contains("<title id=\"trend-chart-t\">"));
    assert!(html.contains("supervision.csv?table=trend"));
    // CSV: a BOM, a translated header, one row per unit with numbers.
    let csv = |table: &str| {
        let http = sup.http.clone();
        let url = format!("{}/ws/supervision.csv?table={table}", app.base);
        async move {
            let r = http.get(url).send().await.unwrap();
            let status = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, ct, r.bytes().await.unwrap().to_vec())
        }
    };
    let (s, ct, body) = csv("units").await;
    assert_eq!(s, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "a BOM for Excel");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    // Semicolons: Excel in a Russian or Kazakh locale splits on them (issue 29).
    let head: Vec<&str> = lines[0].split(';').collect();
    assert_eq!(head.len(), 5, "{}", lines[0]);
    assert!(
        ["Просрочено", "Overdue", "Мерзімі өткен"].contains(&head[4]),
        "{head:?}"
    );
    assert!(lines.len() > 1, "the demo has open applications: {text}");
    let row: Vec<&str> = lines[1].rsplitn(4, ';').collect();
    let nums: Vec<i64> = row[..3].iter().map(|n| n.parse().unwrap()).collect();
    assert!(nums[2] > 0 || nums[1] >= 0, "{row:?}");
    // Step times: the step's whole name, hours with a decimal comma.
    let (s, _, body) = csv("times").await;
    assert_eq!(s, 200);
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let rows: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert!(!rows.is_empty(), "{text}");
    assert!(!text.contains('…'), "step names whole: {text}");
    assert_eq!(rows[0].len(), 9, "{:?}", rows[0]);
    assert!(
        rows[0][5].contains(',') && !rows[0][5].contains('.'),
        "{:?}",
        rows[0]
    );
    let (s, _, body) = csv("trend").await;
    assert_eq!(s, 200);
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert_eq!(text.split("\r\n").filter(|l| !l.is_empty()).count(), 31);
    assert_eq!(csv("nope").await.0, 400);
    // A unit outside the area of a regional supervisor is refused.
    let ast = app.login("supervisor.astana").await;
    let r = ast
        .http
        .get(format!(
            "{}/ws/supervision.csv?table=units&unit=R75",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Requests and a denied command, then the scrape.
    let (s, _) = sup.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let denied = drn_engine::Command::CompleteStep {
        application: drn_engine::ApplicationId::new(),
        revision: 1,
        note: None,
    };
    let op = drn_engine::Actor::staff(
        "op.astana.1",
        Role::CounterOperator,
        drn_engine::UnitId::parse("C71-1").unwrap(),
    );
    assert!(app.state.engine.execute(&op, &denied, None).await.is_err());
    let plain = reqwest::Client::new();
    let r = plain
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "loopback may scrape");
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let m = r.text().await.unwrap();
    for series in [
        "# TYPE drn_http_requests_total counter",
        "drn_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}",
        "drn_http_request_duration_seconds_bucket{method=\"GET\",route=\"/ws/supervision\",status=\"200\",le=\"+Inf\"}",
        "drn_commands_total{command=\"accept\",outcome=\"ok\"}",
        "drn_commands_total{command=\"complete_step\",outcome=\"denied\"}",
        "drn_command_duration_seconds_count{command=\"accept\"}",
        "# TYPE drn_overdue_applications gauge",
        "drn_overdue_applications{kind=\"district\"}",
        "drn_storage_fault 0",
        "# TYPE drn_documents_pending gauge",
    ] {
        assert!(m.contains(series), "{series} missing in\n{m}");
    }
    // A count (other tests of this binary may be making documents at the moment).
    let pending = m
        .lines()
        .find_map(|l| l.strip_prefix("drn_documents_pending "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(pending.is_some_and(|n| n >= 0.0 && n.fract() == 0.0), "{m}");
    // The route pattern, never the raw path.
    // (Another test of this binary may visit a unit's page: its pattern is there then.)
    assert!(
        !m.lines()
            .any(|l| l.contains("route=\"/ws/supervision/unit/")
                && !l.contains("route=\"/ws/supervision/unit/{id}\"")),
        "{m}"
    );
    // Through a proxy: only an administrator or auditor session (or the token).
    let proxied = |c: &reqwest::Client| {
        c.get(format!("{}/metrics", app.base))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
    };
    assert_eq!(proxied(&plain).await.unwrap().status(), 404);
    assert_eq!(proxied(&sup.http).await.unwrap().status(), 404);
    let auditor = app.login("auditor").await;
    assert_eq!(proxied(&auditor.http).await.unwrap().status(), 200);
}

on_both!(
    supervision_dashboard_csv_and_metrics,
    supervision_and_metrics
);
