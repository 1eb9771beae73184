//! Pictures drawn on the server as SVG: device availability over time and mobile data use
//! against a cap or pack. Integer arithmetic only; the browser scales the drawing.

/// One stretch of a device's state: `[from, to)` in seconds, UP or not.
pub struct Stretch {
    pub from: i64,
    pub to: i64,
    pub up: bool,
}

const WIDTH: i64 = 720;

/// A horizontal band over `[start, end)`: green where the device was UP, red where DOWN, grey
/// where nothing is known; the share of UP time as a label (per mille, shown as a percentage
/// with one decimal).
pub fn availability(stretches: &[Stretch], start: i64, end: i64, up: &str, down: &str) -> String {
    let span = (end - start).max(1);
    let x = |t: i64| (t.clamp(start, end) - start) * WIDTH / span;
    let mut rects = String::new();
    let mut up_secs = 0;
    let mut known = 0;
    for s in stretches {
        let (a, b) = (s.from.max(start), s.to.min(end));
        if b <= a {
            continue;
        }
        known += b - a;
        if s.up {
            up_secs += b - a;
        }
        rects.push_str(&format!(
            r#"<rect x="{}" y="10" width="{}" height="24" fill="{}"><title>{}</title></rect>"#,
            x(a),
            (x(b) - x(a)).max(1),
            if s.up { "#1b7f3b" } else { "#b3261e" },
            if s.up { up } else { down },
        ));
    }
    let permille = if known == 0 {
        0
    } else {
        up_secs * 1000 / known
    };
    format!(
        r##"<svg class="chart" role="img" viewBox="0 0 {w} 52" width="{w}" height="52" xmlns="http://www.w3.org/2000/svg"><title>{up} {p}.{d}%</title><rect x="0" y="10" width="{w}" height="24" fill="#e3e6ea"/>{rects}<text x="0" y="48">{up} {p}.{d}%</text></svg>"##,
        w = WIDTH,
        p = permille / 10,
        d = permille % 10,
    )
}

/// Daily use as bars against a limit line: `days` are bytes per day of the month, `limit` the
/// cap or pack in bytes (none for uncapped plans).
pub fn usage(days: &[u64], limit: Option<u64>, caption: &str, limit_label: &str) -> String {
    let height: u64 = 160;
    let cumulative: Vec<u64> = days
        .iter()
        .scan(0u64, |sum, d| {
            *sum += d;
            Some(*sum)
        })
        .collect();
    let top = cumulative
        .last()
        .copied()
        .unwrap_or(0)
        .max(limit.unwrap_or(0))
        .max(1);
    let n = days.len().max(1) as u64;
    let bar = (WIDTH as u64 - 40) / n;
    let y = |v: u64| height - v.min(top) * height / top + 10;
    let mut bars = String::new();
    for (i, total) in cumulative.iter().enumerate() {
        let over = limit.is_some_and(|l| *total > l);
        bars.push_str(&format!(
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>"#,
            40 + i as u64 * bar,
            y(*total),
            bar.saturating_sub(2).max(1),
            height + 10 - y(*total),
            if over { "#b3261e" } else { "#0b5cad" },
            i + 1,
            gigabytes(*total),
        ));
    }
    let limit_line = limit
        .map(|l| {
            format!(
                r##"<line x1="40" x2="{w}" y1="{y}" y2="{y}" stroke="#9a6700" stroke-dasharray="6 4"/><text x="{tx}" y="{ty}">{limit_label} {gb}</text>"##,
                w = WIDTH,
                y = y(l),
                // Under the line at the left, where the cumulative bars are still low, clear of
                // the axis label of the top value.
                tx = 44,
                ty = y(l) + 12,
                gb = gigabytes(l),
            )
        })
        .unwrap_or_default();
    format!(
        r##"<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{caption}</title><line x1="40" x2="40" y1="10" y2="{base}" stroke="#9aa3ae"/><text x="0" y="20">{top_gb}</text><text x="0" y="{base}">0</text>{bars}{limit_line}</svg>"##,
        w = WIDTH,
        h = height + 30,
        base = height + 10,
        top_gb = gigabytes(top),
    )
}

/// Bytes as GB with two decimals (1 GB = 10^9 bytes, as the plans count), by integer division.
pub fn gigabytes(bytes: u64) -> String {
    let hundredths = bytes / 10_000_000;
    format!("{}.{:02} GB", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_counts_known_time_only() {
        // 3 h UP, 1 h DOWN, then 4 h unknown: 3 / 4 = 75.0 %.
        let s = [
            Stretch {
                from: 0,
                to: 10_800,
                up: true,
            },
            Stretch {
                from: 10_800,
                to: 14_400,
                up: false,
            },
        ];
        let svg = availability(&s, 0, 28_800, "UP", "DOWN");
        assert!(svg.contains("UP 75.0%"), "{svg}");
        // UP for 0..10800 of 28800 s over 720 px: 10800 × 720 / 28800 = 270 px wide.
        assert!(svg.contains(r#"<rect x="0" y="10" width="270""#), "{svg}");
    }

    #[test]
    fn usage_marks_days_over_the_limit() {
        let gb = 1_000_000_000;
        let svg = usage(&[4 * gb, 4 * gb, 4 * gb], Some(10 * gb), "use", "cap");
        // Cumulative 4, 8, 12 GB: only the third bar is over the 10 GB cap.
        assert_eq!(svg.matches("#b3261e").count(), 1, "{svg}");
        assert!(svg.contains("cap 10.00 GB"));
        assert_eq!(gigabytes(1_234_567_890), "1.23 GB");
    }
}
