//! Supervision: step times and the daily trend.

use drn_core::Urgency;
use drn_engine::*;
use jiff::SignedDuration;

use crate::support::*;

/// Step times and the daily trend on a known set: three applications accepted at 10:00,
/// 11:00 and 13:00 and completed together at 14:00 spent 4 h, 3 h and 1 h at step 2.
async fn supervision_step_times(url: &str) {
    let w = world(url, "2019-04-02T10:00:00").await;
    let a1 = accept(&w, Urgency::General).await;
    w.clock.advance(SignedDuration::from_hours(1));
    let a2 = accept(&w, Urgency::General).await;
    w.clock.advance(SignedDuration::from_hours(2));
    let a3 = accept(&w, Urgency::General).await;
    assert_eq!(a1.step, 2);
    w.clock.advance(SignedDuration::from_hours(1));
    let sent = w.engine.now();
    for a in [&a1, &a2, &a3] {
        assert_eq!(complete(&w, &w.counter, a).await.step, 3);
    }
    let within = [&a1, &a2, &a3]
        .iter()
        .filter(|a| a.step_due_at.is_none_or(|d| sent <= d))
        .count() as i64;
    let sup = Actor::staff("sup", Role::Supervisor, uid("KZ"));
    let day: jiff::civil::Date = "2019-04-02".parse().unwrap();
    let times = w.engine.step_times(&sup, None, day, day).await.unwrap();
    assert_eq!(times.len(), 1, "{times:?}");
    let t = &times[0];
    assert_eq!((t.service.as_str(), t.step), ("S1", 2));
    assert_eq!(t.completed, 3);
    assert_eq!(t.mean_secs, (4 + 3 + 1) * 3600 / 3);
    assert_eq!(t.p90_secs, 4 * 3600);
    assert_eq!(t.within_limit, within);
    let limits: Vec<i64> = [&a1, &a2, &a3]
        .iter()
        .filter_map(|a| {
            a.step_due_at
                .map(|d| d.duration_since(a.step_entered_at).as_secs())
        })
        .collect();
    assert_eq!(
        t.mean_limit_secs,
        limits.iter().sum::<i64>() / limits.len() as i64
    );
    // Area-scoped: the region of the counter has them, the other region none.
    let in71 = w
        .engine
        .step_times(&sup, Some(&uid("R71")), day, day)
        .await
        .unwrap();
    assert_eq!(in71[0].completed, 3);
    assert!(w
        .engine
        .step_times(&sup, Some(&uid("R75")), day, day)
        .await
        .unwrap()
        .is_empty());
    let sup75 = Actor::staff("sup75", Role::Supervisor, uid("R75"));
    assert!(matches!(
        w.engine
            .step_times(&sup75, Some(&uid("R71")), day, day)
            .await,
        Err(EngineError::Forbidden { .. })
    ));
    assert!(w
        .engine
        .step_times(&sup75, None, day, day)
        .await
        .unwrap()
        .is_empty());
    // Another day: nothing completed then.
    let before: jiff::civil::Date = "2019-04-01".parse().unwrap();
    assert!(w
        .engine
        .step_times(&sup, None, before, before)
        .await
        .unwrap()
        .is_empty());
    // The trend: three accepted on the 2nd, none issued, the late steps as computed.
    let trend = w.engine.trend(&sup, None, before, day).await.unwrap();
    assert_eq!(trend.len(), 2);
    assert_eq!(
        (trend[0].accepted, trend[0].issued, trend[0].late),
        (0, 0, 0)
    );
    assert_eq!(
        (
            trend[1].day,
            trend[1].accepted,
            trend[1].issued,
            trend[1].late
        ),
        (day, 3, 0, 3 - within)
    );
    // By region: all three are open at the district in R71.
    let s = w.engine.supervision(&sup).await.unwrap();
    assert_eq!(s.by_region.len(), 1);
    assert_eq!(s.by_region[0].unit.id, uid("R71"));
    assert_eq!(s.by_region[0].counts.open, 3);
}

on_both!(supervision_step_times_and_trend, supervision_step_times);
