//! Charts as server-rendered SVG (no script): a line chart of daily counts and a chart of
//! step times against their limits. Each has a `<title>` and a `<desc>`, labels as text,
//! and the page shows the same numbers in a table beside it. Every text put in the SVG is
//! escaped here.

use std::fmt::Write as _;

/// Text escaped for XML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line of a line chart.
pub struct Series<'a> {
    pub name: &'a str,
    /// A CSS class of app.css (its colour).
    pub class: &'a str,
    pub values: Vec<i64>,
}

/// Daily counts as lines over `days` (x labels), with a legend.
pub fn lines(id: &str, title: &str, desc: &str, days: &[String], series: &[Series]) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 260.0, 44.0, 12.0, 16.0, 58.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = days.len().max(1);
    let step = if n > 1 {
        (w - left - right) / (n - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |v: i64| top + (h - top - bottom) * (1.0 - v as f64 / max as f64);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    // The y axis: 0, half and max.
    for v in [0, max / 2, max] {
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            w - right,
            left - 6.0,
            yy + 4.0
        );
    }
    // The x axis: about eight day labels.
    let every = n.div_ceil(8).max(1);
    for (i, d) in days.iter().enumerate() {
        // Every `every`-th day and the last, but not one that would touch the last.
        let last = i + 1 == n;
        if last || (i % every == 0 && n - 1 - i >= every.div_ceil(2).max(2)) {
            let _ = write!(
                s,
                r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="{}">{}</text>"#,
                x(i),
                h - bottom + 16.0,
                if last && n > 1 { "end" } else { "middle" },
                esc(d.get(5..).unwrap_or(d))
            );
        }
    }
    for (k, se) in series.iter().enumerate() {
        let pts: Vec<String> = se
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="line {}" fill="none" points="{}"><title>{}</title></polyline>"#,
            se.class,
            pts.join(" "),
            esc(se.name)
        );
        // The legend.
        let lx = left + 170.0 * k as f64;
        let ly = h - 14.0;
        let _ = write!(
            s,
            r#"<rect class="key {}" x="{lx:.1}" y="{:.1}" width="14" height="4"/><text class="legend" x="{:.1}" y="{ly:.1}">{}</text>"#,
            se.class,
            ly - 4.0,
            lx + 20.0,
            esc(se.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar row of the step-time chart.
pub struct TimeBar {
    pub label: String,
    pub mean_secs: i64,
    pub p90_secs: i64,
    pub limit_secs: i64,
    /// The values as the page shows them, for the bar's own `<title>`.
    pub text: String,
}

/// Mean and 90th-percentile time per step as bars, each row on its own scale with its
/// limit as a mark at the same scale.
pub fn time_bars(id: &str, title: &str, desc: &str, legend: [&str; 3], rows: &[TimeBar]) -> String {
    let (w, label_w, row_h, top) = (760.0, 300.0, 30.0, 28.0);
    let h = top + row_h * rows.len().max(1) as f64 + 8.0;
    let bar_w = w - label_w - 16.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    for (k, (class, name)) in ["mean", "p90", "limit"].iter().zip(legend).enumerate() {
        let lx = label_w + 150.0 * k as f64;
        let _ = write!(
            s,
            r#"<rect class="key {class}" x="{lx:.1}" y="6" width="14" height="10"/><text class="legend" x="{:.1}" y="15">{}</text>"#,
            lx + 20.0,
            esc(name)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y0 = top + row_h * i as f64;
        let scale = r.p90_secs.max(r.limit_secs).max(r.mean_secs).max(1) as f64;
        let len = |v: i64| bar_w * v as f64 / scale;
        let label: String = if r.label.chars().count() > 44 {
            r.label.chars().take(43).chain(['…']).collect()
        } else {
            r.label.clone()
        };
        let _ = write!(
            s,
            r#"<g><title>{}</title><text class="label" x="4" y="{:.1}">{}</text><rect class="bar p90" x="{label_w}" y="{:.1}" width="{:.1}" height="10"/><rect class="bar mean" x="{label_w}" y="{:.1}" width="{:.1}" height="10"/>"#,
            esc(&r.text),
            y0 + 15.0,
            esc(&label),
            y0 + 4.0,
            len(r.p90_secs),
            y0 + 14.0,
            len(r.mean_secs),
        );
        if r.limit_secs > 0 {
            let lx = label_w + len(r.limit_secs);
            let _ = write!(
                s,
                r#"<line class="limit" x1="{lx:.1}" y1="{:.1}" x2="{lx:.1}" y2="{:.1}"/>"#,
                y0 + 1.0,
                y0 + 27.0
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_text_and_are_titled() {
        let svg = lines(
            "c",
            "Trend <&>",
            "d",
            &["2019-04-01".into(), "2019-04-02".into()],
            &[Series {
                name: "A\"",
                class: "s1",
                values: vec![1, 3],
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"c-t\">Trend &lt;&amp;&gt;</title>"));
        assert!(svg.contains("A&quot;"));
        assert!(svg.contains(">04-02<"));
        let bars = time_bars(
            "b",
            "T",
            "D",
            ["m", "p", "l"],
            &[TimeBar {
                label: "S1 <x>".into(),
                mean_secs: 10,
                p90_secs: 20,
                limit_secs: 40,
                text: "t".into(),
            }],
        );
        assert!(bars.contains("S1 &lt;x&gt;") && bars.contains("class=\"limit\""));
    }
}
