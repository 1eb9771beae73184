//! An operator's throttle or release by hand, and the SIM's state it gives (R9.9).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::calendar::{CalendarError, Month, tokyo_date};

use super::*;

/// An operator's throttle or release by hand (R9.9: "without notice").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualAction {
    Throttle,
    Release,
}

crate::state::states! {
    /// What a change in the feed of throttle decisions is (R9.9): an automatic throttle
    /// decided, one withdrawn after corrections, or an operator's throttle or release by hand.
    pub enum ThrottleEventKind ("throttle event kind") {
        Throttle = "throttle",
        Withdrawn = "withdrawn",
        ManualThrottle = "manual_throttle",
        ManualRelease = "manual_release",
    }
}

impl From<ManualAction> for ThrottleEventKind {
    fn from(action: ManualAction) -> Self {
        match action {
            ManualAction::Throttle => ThrottleEventKind::ManualThrottle,
            ManualAction::Release => ThrottleEventKind::ManualRelease,
        }
    }
}

/// A manual action, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub action: ManualAction,
    pub at: Timestamp,
    pub reason: String,
}

impl Manual {
    /// A manual throttle or release at `at` (R9.9); the reason is required, since the
    /// contractor is not told beforehand and the journal is the only account of why.
    ///
    /// # Errors
    /// A refusal with R9.9 when the reason is blank.
    pub fn new(action: ManualAction, at: Timestamp, reason: &str) -> Result<Manual, Refusal> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Refusal::new(
                "R9.9",
                "a manual throttle or release needs a reason",
                "手動での通信制限・解除には理由が必要です",
            ));
        }
        Ok(Manual {
            action,
            at,
            reason: reason.to_owned(),
        })
    }
}

/// Who decided a SIM's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Automatic,
    Manual,
}

/// A SIM's throttle state at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub throttled: bool,
    pub source: Source,
    /// When the state ends by itself, if it does.
    pub until: Option<Timestamp>,
}

/// The SIM's state at `now` (R9.9): the operator's latest manual action overrides the automatic
/// decisions. A manual throttle holds until released by hand; a manual release holds until 00:00
/// Tokyo on the 1st after it, when the next month's use is measured afresh.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn state_at(
    now: Timestamp,
    automatic: &[Throttle],
    manual: Option<&Manual>,
) -> Result<State, CalendarError> {
    if let Some(m) = manual.filter(|m| m.at <= now) {
        match m.action {
            ManualAction::Throttle => {
                return Ok(State {
                    throttled: true,
                    source: Source::Manual,
                    until: None,
                });
            }
            ManualAction::Release => {
                let (_, release_ends) = month_bounds(Month::containing(tokyo_date(m.at)))?;
                if now < release_ends {
                    return Ok(State {
                        throttled: false,
                        source: Source::Manual,
                        until: Some(release_ends),
                    });
                }
            }
        }
    }
    let current = automatic.iter().find(|t| t.from <= now && now < t.until);
    Ok(State {
        throttled: current.is_some(),
        source: Source::Automatic,
        until: current.map(|t| t.until),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mobile::fixtures::*;

    #[test]
    fn r9_9_manual_actions_override_and_need_a_reason() {
        let sim = option("s", MobileUsageType::Plan10gb);
        let records = [rec("s", "2026-04-10T00:00:00+09:00", 11 * GB)];
        let auto: Vec<Throttle> = sim_throttle(&sim, april(), &records)
            .unwrap()
            .into_iter()
            .collect();
        let before = ts("2026-04-09T00:00:00Z");
        let during = ts("2026-04-20T00:00:00Z");
        assert!(!state_at(before, &auto, None).unwrap().throttled);
        assert!(state_at(during, &auto, None).unwrap().throttled);

        assert_eq!(
            Manual::new(ManualAction::Release, during, "  ")
                .unwrap_err()
                .rule,
            "R9.9"
        );
        // Released by hand on 04-15: open until 05-01 00:00 JST, automatic again after.
        let release =
            Manual::new(ManualAction::Release, ts("2026-04-15T00:00:00Z"), "VIP").unwrap();
        let s = state_at(during, &auto, Some(&release)).unwrap();
        assert_eq!((s.throttled, s.source), (false, Source::Manual));
        assert_eq!(s.until, Some(ts("2026-04-30T15:00:00Z")));
        // Throttled by hand on 04-01, before any automatic decision, until released by hand.
        let throttle =
            Manual::new(ManualAction::Throttle, ts("2026-04-01T00:00:00Z"), "abuse").unwrap();
        let s = state_at(before, &auto, Some(&throttle)).unwrap();
        assert_eq!(
            (s.throttled, s.source, s.until),
            (true, Source::Manual, None)
        );
        // A manual action in the future does not apply yet.
        assert!(!state_at(before, &auto, Some(&release)).unwrap().throttled);
    }
}
