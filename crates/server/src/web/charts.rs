//! Pictures drawn on the server as SVG: device availability over time and mobile data use
//! against a cap or pack, each with dated axes. Integer arithmetic only; the browser scales the
//! drawing.

use jiff::Timestamp;
use jiff::civil::Date;
use mpc_domain::calendar::{tokyo_date, tokyo_start_of_day};

use super::i18n::Lang;

/// One stretch of a device's state: `[from, to)` in seconds, UP or not.
pub struct Stretch {
    pub from: i64,
    pub to: i64,
    pub up: bool,
}

const WIDTH: i64 = 720;

/// A mark on a time axis: an instant in seconds and what to write under it.
pub struct Tick {
    pub at: i64,
    pub label: String,
}

/// The midnights in Tokyo (D1) within `[start, end]`, in seconds, with their dates: where a
/// chart over days puts its ticks.
pub fn tokyo_midnights(start: Timestamp, end: Timestamp) -> Vec<(i64, Date)> {
    let mut out = Vec::new();
    let mut day = tokyo_date(start);
    while let Ok(midnight) = tokyo_start_of_day(day) {
        if midnight > end {
            break;
        }
        if midnight >= start {
            out.push((midnight.as_second(), day));
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

/// Ticks at the Tokyo midnights of `[start, end]`, dated as the catalog writes a day
/// (`12/5`, `5 Dec`).
pub fn day_ticks(lang: Lang, start: Timestamp, end: Timestamp) -> Vec<Tick> {
    tokyo_midnights(start, end)
        .into_iter()
        .map(|(at, day)| Tick {
            at,
            label: day.strftime(lang.t().chart_day).to_string(),
        })
        .collect()
}

/// A device's last seven days as an availability band with day ticks: `changes` are its
/// UP/DOWN changes, oldest first, as `(up, instant)`; the last one lasts until `now`.
pub fn week(lang: Lang, changes: &[(bool, Timestamp)], now: Timestamp) -> String {
    let t = lang.t();
    let start = now - jiff::SignedDuration::from_hours(7 * 24);
    let stretches: Vec<Stretch> = changes
        .iter()
        .enumerate()
        .map(|(i, (up, from))| Stretch {
            from: from.as_second(),
            to: changes
                .get(i + 1)
                .map_or(now, |(_, next)| *next)
                .as_second(),
            up: *up,
        })
        .collect();
    availability(
        &stretches,
        start.as_second(),
        now.as_second(),
        &day_ticks(lang, start, now),
        t.up,
        t.down,
    )
}

/// Text that is safe inside SVG markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A label at `x` under an axis that spans `[left, right]`: centred, or held inside at the ends.
fn axis_label(x: i64, y: i64, left: i64, right: i64, text: &str) -> String {
    let anchor = if x - left < 24 {
        "start"
    } else if right - x < 24 {
        "end"
    } else {
        "middle"
    };
    format!(
        r#"<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="11">{}</text>"#,
        escape(text)
    )
}

/// A horizontal band over `[start, end)`: green where the device was UP, red where DOWN, grey
/// where nothing is known; a tick at each of `ticks` (midnights, dated) under it; and the share
/// of UP time in the known time as a label (per mille, shown as a percentage with one decimal;
/// a dash when nothing is known).
pub fn availability(
    stretches: &[Stretch],
    start: i64,
    end: i64,
    ticks: &[Tick],
    up: &str,
    down: &str,
) -> String {
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
            escape(if s.up { up } else { down }),
        ));
    }
    let mut axis = String::new();
    for t in ticks.iter().filter(|t| (start..=end).contains(&t.at)) {
        let tx = x(t.at);
        axis.push_str(&format!(
            r##"<line class="tick" x1="{tx}" x2="{tx}" y1="10" y2="40" stroke="#5b6473"/>"##
        ));
        axis.push_str(&axis_label(tx, 52, 0, WIDTH, &t.label));
    }
    // Nothing known (a device never heard from) has no share, rather than 0 %.
    let share = if known == 0 {
        "—".to_owned()
    } else {
        let permille = up_secs * 1000 / known;
        format!("{}.{}%", permille / 10, permille % 10)
    };
    format!(
        r##"<svg class="chart" role="img" viewBox="0 0 {w} 76" width="{w}" height="76" xmlns="http://www.w3.org/2000/svg"><title>{up} {share}</title><rect x="0" y="10" width="{w}" height="24" fill="#e3e6ea"/>{rects}{axis}<text x="0" y="70" font-size="12">{up} {share}</text></svg>"##,
        w = WIDTH,
        up = escape(up),
    )
}

/// One day of mobile data use: its label on the axis and the bytes used.
pub struct UsageDay {
    pub label: String,
    pub bytes: u64,
}

/// The words of a usage chart, from the console's catalog.
pub struct UsageLabels<'a> {
    pub caption: &'a str,
    /// `cap` or `pack`.
    pub limit: &'a str,
    pub daily: &'a str,
    pub cumulative: &'a str,
    pub throttled: &'a str,
    pub megabytes: &'a str,
    pub gigabytes: &'a str,
}

const MB: u64 = 1_000_000;
const GB: u64 = 1_000_000_000;

/// An axis from 0 in `count` equal steps of `step` bytes, a 1-2-5 multiple of 1 MB, with at
/// most five steps to cover `max`.
#[derive(Debug, PartialEq, Eq)]
struct Scale {
    step: u64,
    count: u64,
}

impl Scale {
    fn covering(max: u64) -> Scale {
        let mut magnitude = MB;
        loop {
            for m in [1, 2, 5] {
                let step = magnitude.saturating_mul(m);
                let count = max.div_ceil(step);
                if count <= 5 || step == u64::MAX {
                    return Scale {
                        step,
                        count: count.max(1),
                    };
                }
            }
            magnitude = magnitude.saturating_mul(10);
        }
    }

    fn top(&self) -> u64 {
        self.step.saturating_mul(self.count)
    }

    /// A value of this axis in whole GB when its steps are whole GB, else in whole MB.
    fn label(&self, bytes: u64, l: &UsageLabels<'_>) -> String {
        if self.step.is_multiple_of(GB) {
            format!("{} {}", bytes / GB, l.gigabytes)
        } else {
            format!("{} {}", bytes / MB, l.megabytes)
        }
    }
}

// The usage chart's plot area.
const LEFT: i64 = 64;
const RIGHT: i64 = 656;
const TOP: i64 = 24;
const BOTTOM: i64 = 194;
const DAY: i64 = 86_400;

/// Daily use as bars (right axis) beside the month's cumulative use as a line (left axis),
/// against the cap or pack `limit` (bytes; none for uncapped plans) as a labelled horizontal
/// line, with the instant a throttle started (`throttle`: seconds and its label) marked. `days`
/// are the month's days from the one beginning at `start` (seconds); each fifth is dated.
pub fn usage(
    days: &[UsageDay],
    start: i64,
    limit: Option<u64>,
    throttle: Option<&Tick>,
    l: &UsageLabels<'_>,
) -> String {
    let n = i64::try_from(days.len()).unwrap_or(i64::MAX).max(1);
    let slot = (RIGHT - LEFT) / n;
    let height = u64::try_from(BOTTOM - TOP).unwrap_or(0);
    let mut total = 0u64;
    let cumulative: Vec<u64> = days
        .iter()
        .map(|d| {
            total = total.saturating_add(d.bytes);
            total
        })
        .collect();
    let left = Scale::covering(total.max(limit.unwrap_or(0)));
    let right = Scale::covering(days.iter().map(|d| d.bytes).max().unwrap_or(0));
    let y = |v: u64, s: &Scale| {
        let above = v.min(s.top()).saturating_mul(height) / s.top().max(1);
        BOTTOM - i64::try_from(above).unwrap_or(0)
    };
    let mut out = String::new();
    // Grid and both axes' values.
    for i in 0..=left.count {
        let gy = y(i * left.step, &left);
        out.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{RIGHT}" y1="{gy}" y2="{gy}" stroke="#e3e6ea"/><text x="{tx}" y="{ty}" text-anchor="end" font-size="11">{v}</text>"##,
            tx = LEFT - 6,
            ty = gy + 4,
            v = escape(&left.label(i * left.step, l)),
        ));
    }
    for i in 0..=right.count {
        let gy = y(i * right.step, &right);
        out.push_str(&format!(
            r##"<text class="daily" x="{tx}" y="{ty}" font-size="11" fill="#0b5cad">{v}</text>"##,
            tx = RIGHT + 6,
            ty = gy + 4,
            v = escape(&right.label(i * right.step, l)),
        ));
    }
    out.push_str(&format!(
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{BOTTOM}" stroke="#5b6473"/><line x1="{RIGHT}" x2="{RIGHT}" y1="{TOP}" y2="{BOTTOM}" stroke="#5b6473"/><line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" stroke="#5b6473"/><text x="{LEFT}" y="14" font-size="11">{c}</text><text class="daily" x="{RIGHT}" y="14" text-anchor="end" font-size="11" fill="#0b5cad">{d}</text>"##,
        c = escape(l.cumulative),
        d = escape(l.daily),
    ));
    // Daily bars, the day ticks and every fifth day's date.
    let mut points = Vec::new();
    for (i, (d, sum)) in days.iter().zip(&cumulative).enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let centre = LEFT + i * slot + slot / 2;
        let top = y(d.bytes, &right);
        out.push_str(&format!(
            r##"<rect class="day" x="{x}" y="{top}" width="{w}" height="{h}" fill="#8fb8e6"><title>{label}: {v}</title></rect>"##,
            x = centre - slot / 4,
            w = (slot / 2).max(1),
            h = BOTTOM - top,
            label = escape(&d.label),
            v = gigabytes(d.bytes),
        ));
        out.push_str(&format!(
            r##"<line class="tick" x1="{centre}" x2="{centre}" y1="{BOTTOM}" y2="{b}" stroke="#5b6473"/>"##,
            b = BOTTOM + 4,
        ));
        if i == 0 || (i + 1) % 5 == 0 {
            out.push_str(&axis_label(centre, BOTTOM + 18, LEFT, RIGHT, &d.label));
        }
        points.push(format!("{centre},{}", y(*sum, &left)));
    }
    if !points.is_empty() {
        out.push_str(&format!(
            r##"<polyline class="cumulative" points="{}" fill="none" stroke="#14304f" stroke-width="2"/>"##,
            points.join(" ")
        ));
    }
    for (i, sum) in cumulative.iter().enumerate() {
        if limit.is_some_and(|lim| *sum > lim) {
            let i = i64::try_from(i).unwrap_or(0);
            out.push_str(&format!(
                r##"<circle class="over" cx="{}" cy="{}" r="3" fill="#b3261e"/>"##,
                LEFT + i * slot + slot / 2,
                y(*sum, &left),
            ));
        }
    }
    if let Some(lim) = limit {
        let ly = y(lim, &left);
        out.push_str(&format!(
            r##"<line class="limit" x1="{LEFT}" x2="{RIGHT}" y1="{ly}" y2="{ly}" stroke="#9a6700" stroke-width="2" stroke-dasharray="6 4"/><text class="limit" x="{tx}" y="{ty}" font-size="11" fill="#9a6700">{label} {v}</text>"##,
            tx = LEFT + 4,
            ty = ly - 4,
            label = escape(l.limit),
            v = gigabytes(lim),
        ));
    }
    if let Some(t) = throttle {
        let span = n * DAY;
        let tx = LEFT + (t.at - start).clamp(0, span) * (RIGHT - LEFT) / span;
        // Its label on the side with room for it.
        let (lx, anchor) = if tx - LEFT > 200 {
            (tx - 4, "end")
        } else {
            (tx + 4, "start")
        };
        out.push_str(&format!(
            r##"<line class="throttle" x1="{tx}" x2="{tx}" y1="{TOP}" y2="{BOTTOM}" stroke="#b3261e" stroke-width="2"/><text class="throttle" x="{lx}" y="{ly}" text-anchor="{anchor}" font-size="11" fill="#b3261e">{label} {when}</text>"##,
            ly = TOP + 12,
            label = escape(l.throttled),
            when = escape(&t.label),
        ));
    }
    format!(
        r##"<svg class="chart" role="img" viewBox="0 0 {w} 230" width="{w}" height="230" xmlns="http://www.w3.org/2000/svg"><title>{caption}</title>{out}</svg>"##,
        w = WIDTH,
        caption = escape(l.caption),
    )
}

/// One SMFv2 heartbeat's figures as drawn: its instant in seconds and whole percentages (none
/// when the heartbeat did not carry the figure).
pub struct FigurePoint {
    pub at: i64,
    pub cpu_percent: Option<u8>,
    pub memory_percent: Option<u8>,
}

/// Which figure of a point a line draws.
type FigureOf = fn(&FigurePoint) -> Option<u8>;

/// The words of a figures chart, from the console's catalog.
pub struct FigureLabels<'a> {
    pub caption: &'a str,
    pub cpu: &'a str,
    pub memory: &'a str,
}

/// CPU and memory use over `[start, end]` (seconds) as two lines on a 0–100 % axis, dated by
/// `ticks`; a heartbeat without a figure breaks its line rather than drawing it at 0 %.
pub fn figures(
    points: &[FigurePoint],
    start: i64,
    end: i64,
    ticks: &[Tick],
    l: &FigureLabels<'_>,
) -> String {
    let span = (end - start).max(1);
    let x = |t: i64| LEFT + (t.clamp(start, end) - start) * (RIGHT - LEFT) / span;
    let y = |p: u8| BOTTOM - i64::from(p.min(100)) * (BOTTOM - TOP) / 100;
    let mut out = String::new();
    for p in [0u8, 25, 50, 75, 100] {
        let gy = y(p);
        out.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{RIGHT}" y1="{gy}" y2="{gy}" stroke="#e3e6ea"/><text x="{tx}" y="{ty}" text-anchor="end" font-size="11">{p}%</text>"##,
            tx = LEFT - 6,
            ty = gy + 4,
        ));
    }
    out.push_str(&format!(
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{BOTTOM}" stroke="#5b6473"/><line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" stroke="#5b6473"/>"##
    ));
    for t in ticks.iter().filter(|t| (start..=end).contains(&t.at)) {
        let tx = x(t.at);
        out.push_str(&format!(
            r##"<line class="tick" x1="{tx}" x2="{tx}" y1="{BOTTOM}" y2="{b}" stroke="#5b6473"/>"##,
            b = BOTTOM + 4,
        ));
        out.push_str(&axis_label(tx, BOTTOM + 18, LEFT, RIGHT, &t.label));
    }
    let series: [(&str, &str, &str, FigureOf); 2] = [
        ("cpu", "#0b5cad", l.cpu, |p| p.cpu_percent),
        ("memory", "#9a6700", l.memory, |p| p.memory_percent),
    ];
    for (i, (class, colour, label, value)) in series.into_iter().enumerate() {
        // Runs of consecutive heartbeats that carried the figure, each one polyline.
        let mut runs: Vec<Vec<(i64, i64)>> = vec![Vec::new()];
        for p in points {
            match (value(p), runs.last_mut()) {
                (Some(v), Some(run)) => run.push((x(p.at), y(v))),
                _ => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            if let [(cx, cy)] = run.as_slice() {
                out.push_str(&format!(
                    r##"<circle class="{class}" cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>"##
                ));
            } else {
                let joined: Vec<String> = run.iter().map(|(px, py)| format!("{px},{py}")).collect();
                out.push_str(&format!(
                    r##"<polyline class="{class}" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"##,
                    joined.join(" ")
                ));
            }
        }
        let lx = LEFT + i64::try_from(i).unwrap_or(0) * 160;
        out.push_str(&format!(
            r##"<rect x="{lx}" y="6" width="12" height="4" fill="{colour}"/><text x="{tx}" y="12" font-size="11">{}</text>"##,
            escape(label),
            tx = lx + 16,
        ));
    }
    format!(
        r##"<svg class="chart" role="img" viewBox="0 0 {w} 230" width="{w}" height="230" xmlns="http://www.w3.org/2000/svg"><title>{caption}</title>{out}</svg>"##,
        w = WIDTH,
        caption = escape(l.caption),
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

    const LABELS: UsageLabels<'static> = UsageLabels {
        caption: "use",
        limit: "cap",
        daily: "per day",
        cumulative: "month so far",
        throttled: "throttled",
        megabytes: "MB",
        gigabytes: "GB",
    };

    #[test]
    fn figures_draw_percentages_and_break_where_a_figure_is_missing() {
        let point = |at, cpu, memory| FigurePoint {
            at,
            cpu_percent: cpu,
            memory_percent: memory,
        };
        let l = FigureLabels {
            caption: "figures",
            cpu: "CPU",
            memory: "memory",
        };
        // Over [0, 400] s the plot's 592 px wide: x = 64 + t × 592 / 400; y = 194 − p × 170 / 100.
        let svg = figures(
            &[
                point(0, Some(0), Some(50)),
                point(200, Some(100), None),
                point(400, Some(25), Some(40)),
            ],
            0,
            400,
            &[],
            &l,
        );
        // CPU: (64,194) (360,24) (656,152): 25 % is 194 − 42 (42.5 rounded down).
        assert!(
            svg.contains(r#"class="cpu" points="64,194 360,24 656,152""#),
            "{svg}"
        );
        // Memory is missing in the middle: two single points, no line through 0 %.
        assert!(
            svg.contains(r#"<circle class="memory" cx="64" cy="109""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<circle class="memory" cx="656" cy="126""#),
            "{svg}"
        );
        assert!(!svg.contains(r#"class="memory" points"#), "{svg}");
    }

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
        let svg = availability(&s, 0, 28_800, &[], "UP", "DOWN");
        assert!(svg.contains("UP 75.0%"), "{svg}");
        // UP for 0..10800 of 28800 s over 720 px: 10800 × 720 / 28800 = 270 px wide.
        assert!(svg.contains(r#"<rect x="0" y="10" width="270""#), "{svg}");
    }

    #[test]
    fn availability_ticks_sit_at_their_midnights() {
        // A week of 604 800 s over 720 px; midnights 1 and 3.5 days in:
        // 86 400 × 720 / 604 800 = 102 px (102.86 floored); 302 400 × 720 / 604 800 = 360 px.
        let ticks = [
            Tick {
                at: 86_400,
                label: "12/2".into(),
            },
            Tick {
                at: 302_400,
                label: "12/4".into(),
            },
            Tick {
                at: 700_000,
                label: "outside".into(),
            },
        ];
        let svg = availability(&[], 0, 604_800, &ticks, "UP", "DOWN");
        assert!(svg.contains(r#"x1="102" x2="102""#), "{svg}");
        assert!(
            svg.contains(r#"<text x="102" y="52" text-anchor="middle" font-size="11">12/2</text>"#),
            "{svg}"
        );
        assert!(svg.contains(r#"x1="360" x2="360""#), "{svg}");
        assert_eq!(
            svg.matches(r#"class="tick""#).count(),
            2,
            "one outside the week: {svg}"
        );
        // Nothing known: no share, never a division by zero.
        assert!(svg.contains("UP —"), "{svg}");
    }

    #[test]
    fn tokyo_midnights_of_a_week() {
        // 2026-12-01T00:00+09:00 is 2026-11-30T15:00Z; a week from 1 December 01:00 in Tokyo to
        // 8 December 01:00 holds the seven midnights of 2 to 8 December, 86 400 s apart.
        let start: Timestamp = "2026-11-30T16:00:00Z".parse().unwrap();
        let end: Timestamp = "2026-12-07T16:00:00Z".parse().unwrap();
        let days = tokyo_midnights(start, end);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0].1.to_string(), "2026-12-02");
        assert_eq!(
            days[0].0,
            "2026-12-01T15:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_second()
        );
        assert!(days.windows(2).all(|w| w[1].0 - w[0].0 == 86_400));
    }

    #[test]
    fn scales_step_by_one_two_five() {
        assert_eq!(
            Scale::covering(12 * GB),
            Scale {
                step: 5 * GB,
                count: 3
            }
        );
        // 450 MB: 100 MB steps (5 × 100 = 500 ≥ 450), labelled in MB.
        let s = Scale::covering(450 * MB);
        assert_eq!((s.step, s.count), (100 * MB, 5));
        assert_eq!(s.label(300 * MB, &LABELS), "300 MB");
        assert_eq!(Scale::covering(12 * GB).label(10 * GB, &LABELS), "10 GB");
        assert_eq!(Scale::covering(0), Scale { step: MB, count: 1 });
        assert!(Scale::covering(u64::MAX).top() >= u64::MAX / 2);
    }

    #[test]
    fn usage_draws_days_the_cumulative_line_the_cap_and_the_throttle() {
        let days = [1, 2, 3].map(|d| UsageDay {
            label: format!("12/{d}"),
            bytes: 4 * GB,
        });
        let throttle = Tick {
            at: 2 * DAY + DAY / 2,
            label: "12/3 12:00".into(),
        };
        let svg = usage(&days, 0, Some(10 * GB), Some(&throttle), &LABELS);
        // Three days over 592 px: slots of 197 px, centres at 64 + 98 = 162, 359, 556.
        assert!(svg.contains(r#"x1="162" x2="162""#), "{svg}");
        assert!(svg.contains(r#"x1="556" x2="556""#), "{svg}");
        // Left axis: 12 GB in 5 GB steps up to 15 GB over 170 px. Cumulative 4, 8, 12 GB at
        // 194 − 4×170/15 = 194 − 45 = 149, 194 − 90 = 104, 194 − 136 = 58.
        assert!(svg.contains(r#"points="162,149 359,104 556,58""#), "{svg}");
        // The 10 GB cap at 194 − 10×170/15 = 194 − 113 = 81, labelled.
        assert!(svg.contains(r#"y1="81" y2="81""#), "{svg}");
        assert!(svg.contains("cap 10.00 GB"), "{svg}");
        // Only the third day is over the cap.
        assert_eq!(svg.matches(r#"class="over""#).count(), 1, "{svg}");
        // Right axis: 4 GB a day in 1 GB steps up to 4 GB: each bar is the full 170 px.
        assert!(svg.contains(r#"y="24" width="98" height="170""#), "{svg}");
        // Throttle 2.5 days into 3: 64 + 216 000 × 592 / 259 200 = 64 + 493 = 557.
        assert!(
            svg.contains(r#"class="throttle" x1="557" x2="557""#),
            "{svg}"
        );
        assert!(svg.contains("throttled 12/3 12:00"), "{svg}");
        // Days 1 and 5, 10 … are dated; of three days only the first, under its tick.
        assert!(
            svg.contains(
                r#"<text x="162" y="212" text-anchor="middle" font-size="11">12/1</text>"#
            ),
            "{svg}"
        );
        assert!(
            !svg.contains(">12/2</text>") && !svg.contains(">12/3</text>"),
            "{svg}"
        );
        assert_eq!(gigabytes(1_234_567_890), "1.23 GB");
    }

    #[test]
    fn usage_without_days_or_limit_draws_an_empty_frame() {
        let svg = usage(&[], 0, None, None, &LABELS);
        assert!(!svg.contains("polyline"));
        assert!(!svg.contains("cap"));
        assert!(svg.starts_with("<svg"));
    }

    #[test]
    fn a_week_runs_its_last_state_until_now() {
        // UP from eight days ago, DOWN from one day ago until now: of the seven days shown,
        // six UP, 6 × 1000 / 7 = 857 per mille.
        let now: Timestamp = "2026-12-06T03:00:00Z".parse().unwrap();
        let day = jiff::SignedDuration::from_hours(24);
        let svg = week(Lang::En, &[(true, now - day * 8), (false, now - day)], now);
        assert!(svg.contains("UP 85.7%"), "{svg}");
        // The DOWN stretch is the last seventh of 720 px: from 6 × 720 / 7 = 617 (617.1
        // floored) to 720, 103 px wide.
        assert!(
            svg.contains(r##"<rect x="617" y="10" width="103" height="24" fill="#b3261e">"##),
            "{svg}"
        );
        // Seven midnights in Tokyo fall within the week, each dated.
        assert_eq!(svg.matches(r#"class="tick""#).count(), 7, "{svg}");
    }

    #[test]
    fn labels_are_escaped() {
        let svg = availability(&[], 0, 10, &[], "<UP>", "DOWN");
        assert!(svg.contains("&lt;UP&gt;"));
    }

    #[test]
    fn no_float_is_used() {
        let source = include_str!("charts.rs");
        for float in [["f", "32"].concat(), ["f", "64"].concat()] {
            assert!(!source.contains(&float), "charts use integers only");
        }
    }
}
