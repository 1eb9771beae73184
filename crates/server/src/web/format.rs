//! How the console writes dates, months, times and amounts, in one place.
//!
//! Every page formats the same typed values (`jiff` dates and instants, [`Month`], [`Yen`]) the
//! same way, so a change of style is one edit here. Instants are shown in Tokyo time (D1): the
//! service, its contracts and its invoices live in Japan whatever the reader's clock says.
//!
//! The wire views of the API carry dates as ISO text; the `*_text` functions read such text
//! once and fall back to showing it as it came, so a page never fails over a date.

use jiff::Timestamp;
use jiff::civil::Date;
use mpc_domain::calendar::{Month, tokyo_time};
use mpc_domain::invoice::InvoiceState;
use mpc_domain::money::Yen;

use super::i18n::Lang;

/// `1,234円` or `¥1,234`; a negative amount (a credit) keeps its sign in front.
pub fn yen(lang: Lang, amount: Yen) -> String {
    // `Yen`'s own form is `¥12,345` / `-¥500`; Japanese pages write `12,345円` / `-500円`.
    let grouped = amount.to_string();
    match lang {
        Lang::Ja => format!("{}円", grouped.replacen('¥', "", 1)),
        Lang::En => grouped,
    }
}

/// A date as people read it: `2026年11月24日` or `24 Nov 2026`.
pub fn date(lang: Lang, d: Date) -> String {
    match lang {
        Lang::Ja => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Lang::En => d.strftime("%-d %b %Y").to_string(),
    }
}

/// A billing month as people read it: `2026年10月` or `Oct 2026`.
pub fn month(lang: Lang, m: Month) -> String {
    let d = m.first_day();
    match lang {
        Lang::Ja => format!("{}年{}月", d.year(), d.month()),
        Lang::En => d.strftime("%b %Y").to_string(),
    }
}

/// An instant as Tokyo wall-clock time in the reader's language: `2026年11月24日 09:05`.
pub fn time(lang: Lang, ts: Timestamp) -> String {
    let t = tokyo_time(ts);
    format!("{} {}", date(lang, t.date()), t.strftime("%H:%M"))
}

/// An instant as Tokyo wall-clock time in a compact, language-neutral form for tables and
/// charts: `2026-11-24 09:05`.
pub fn clock(ts: Timestamp) -> String {
    tokyo_time(ts).strftime("%Y-%m-%d %H:%M").to_string()
}

/// [`date`] of a `YYYY-MM-DD` text of a wire view.
pub fn date_text(lang: Lang, iso: &str) -> String {
    iso.parse::<Date>()
        .map_or_else(|_| iso.to_owned(), |d| date(lang, d))
}

/// [`date_text`] of an optional date, or a dash when there is none.
pub fn date_or_dash(lang: Lang, iso: Option<&str>) -> String {
    iso.map_or_else(|| "—".to_owned(), |d| date_text(lang, d))
}

/// [`month`] of a `YYYY-MM` text of a wire view.
pub fn month_text(lang: Lang, iso: &str) -> String {
    iso.parse::<Month>()
        .map_or_else(|_| iso.to_owned(), |m| month(lang, m))
}

/// [`time`] of an RFC 3339 instant of a wire view.
pub fn time_text(lang: Lang, instant: &str) -> String {
    instant
        .parse::<Timestamp>()
        .map_or_else(|_| instant.to_owned(), |ts| time(lang, ts))
}

/// [`clock`] of an RFC 3339 instant of a wire view.
pub fn clock_text(instant: &str) -> String {
    instant
        .parse::<Timestamp>()
        .map_or_else(|_| instant.to_owned(), clock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date as d;

    #[test]
    fn yen_groups_thousands_and_keeps_the_sign() {
        assert_eq!(yen(Lang::Ja, Yen(1_234_567)), "1,234,567円");
        assert_eq!(yen(Lang::En, Yen(-900)), "-¥900");
        assert_eq!(yen(Lang::En, Yen(0)), "¥0");
        assert_eq!(yen(Lang::Ja, Yen(100)), "100円");
        assert_eq!(yen(Lang::En, Yen(1_000)), "¥1,000");
    }

    #[test]
    fn dates_and_months_read_naturally() {
        assert_eq!(date(Lang::Ja, d(2026, 2, 3)), "2026年2月3日");
        assert_eq!(date(Lang::En, d(2026, 2, 3)), "3 Feb 2026");
        let october: Month = "2026-10".parse().unwrap();
        assert_eq!(month(Lang::Ja, october), "2026年10月");
        assert_eq!(month(Lang::En, october), "Oct 2026");
    }

    #[test]
    fn instants_are_shown_in_tokyo_time() {
        // 15:00 UTC is midnight of the next day in Tokyo (UTC+9, no summer time), D1.
        let ts: Timestamp = "2026-03-31T15:00:00Z".parse().unwrap();
        assert_eq!(time(Lang::Ja, ts), "2026年4月1日 00:00");
        assert_eq!(time(Lang::En, ts), "1 Apr 2026 00:00");
        assert_eq!(clock(ts), "2026-04-01 00:00");
    }

    #[test]
    fn wire_text_that_is_not_a_date_is_shown_as_it_came() {
        assert_eq!(date_text(Lang::Ja, "2026-02-03"), "2026年2月3日");
        assert_eq!(date_text(Lang::En, "soon"), "soon");
        assert_eq!(date_or_dash(Lang::En, None), "—");
        assert_eq!(month_text(Lang::En, "2026-10"), "Oct 2026");
        assert_eq!(month_text(Lang::En, "October"), "October");
        assert_eq!(clock_text("2026-03-31T15:00:00Z"), "2026-04-01 00:00");
        assert_eq!(time_text(Lang::En, "later"), "later");
    }
}

/// A state shown as a badge: its words and the badge's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    pub label: &'static str,
    pub class: &'static str,
}

/// Where an invoice stands (B5), as operators and contractors see it on lists and pages.
pub fn invoice_state(lang: Lang, state: InvoiceState) -> Badge {
    let t = lang.t();
    let (label, class) = match state {
        InvoiceState::Draft => (t.money_state_draft, "pending"),
        InvoiceState::Issued => (t.money_state_unpaid, "unpaid"),
        InvoiceState::PartlyPaid => (t.money_state_partly_paid, "partly-paid"),
        InvoiceState::Paid => (t.money_state_paid, "active"),
        InvoiceState::Overdue => (t.money_state_overdue, "overdue"),
        InvoiceState::Defaulted => (t.money_state_defaulted, "ended"),
    };
    Badge { label, class }
}

/// [`invoice_state`] of a state as the API writes it (`partly_paid` …); text naming no state
/// reads as defaulted, the state that asks an operator to look.
pub fn invoice_state_text(lang: Lang, state: &str) -> Badge {
    invoice_state(lang, state.parse().unwrap_or(InvoiceState::Defaulted))
}

/// How many invoices stand in one state, for a dashboard card.
pub struct StateCount {
    pub badge: Badge,
    /// The invoice list filtered by the state.
    pub href: String,
    pub count: usize,
}
