//! A device's monitoring state: up while it sends heartbeats, down after a silence
//! (devices.md D.4); and its connection state as people read it, which tells a device in stock
//! and one never heard from apart from a device that went DOWN.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Whether a device is heard from, written `up` and `down` in storage, on the wire and in
/// console links, as it always was.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    /// Its last heartbeat is recent.
    Up,
    /// Silent for too long, or never heard from.
    Down,
}

impl MonitorState {
    pub const ALL: [MonitorState; 2] = [MonitorState::Up, MonitorState::Down];

    pub fn as_str(self) -> &'static str {
        match self {
            MonitorState::Up => "up",
            MonitorState::Down => "down",
        }
    }

    pub fn is_up(self) -> bool {
        self == MonitorState::Up
    }
}

impl fmt::Display for MonitorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is neither `up` nor `down`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a monitoring state is up or down, not {0:?}")]
pub struct UnknownMonitorState(pub String);

impl FromStr for MonitorState {
    type Err = UnknownMonitorState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MonitorState::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMonitorState(s.to_owned()))
    }
}

impl TryFrom<String> for MonitorState {
    type Error = UnknownMonitorState;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// How long a device may stay silent and still be UP (devices.md D.4: 15 minutes).
pub const DOWN_AFTER: SignedDuration = SignedDuration::from_secs(15 * 60);

/// A device's connection as the fleet shows it, distinct from custody: a device in stock or
/// never heard from is not DOWN (a DOWN device is one that was UP and went silent).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Serving no contract: never assigned, or released from its contract (custody says
    /// whether it came back).
    InStock,
    /// Serving a contract and never heard from.
    NeverConnected,
    /// Serving a contract, heard from within the DOWN delay.
    Up,
    /// Serving a contract, heard from once, silent since for longer than the DOWN delay.
    Down,
}

impl ConnectionState {
    pub const ALL: [ConnectionState; 4] = [
        ConnectionState::InStock,
        ConnectionState::NeverConnected,
        ConnectionState::Up,
        ConnectionState::Down,
    ];

    /// The name on the wire and in console links: `in_stock`, `never_connected`, `up`, `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::InStock => "in_stock",
            ConnectionState::NeverConnected => "never_connected",
            ConnectionState::Up => "up",
            ConnectionState::Down => "down",
        }
    }
}

impl ConnectionState {
    /// What a device must be to stand in this state, as [`classify`] decides: for a fleet
    /// listing that selects devices by state in its query rather than one by one.
    pub fn condition(self) -> ConnectionCondition {
        let heard = |fresh_up| ConnectionCondition {
            serving: true,
            heard: Some(true),
            fresh_up: Some(fresh_up),
        };
        match self {
            ConnectionState::InStock => ConnectionCondition::default(),
            ConnectionState::NeverConnected => ConnectionCondition {
                serving: true,
                heard: Some(false),
                fresh_up: None,
            },
            ConnectionState::Up => heard(true),
            ConnectionState::Down => heard(false),
        }
    }
}

/// What a device in one connection state is, as [`ConnectionState::condition`] gives it:
/// whether it serves a contract, and each other fact it must have (`Some`) or may have either
/// way (`None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionCondition {
    pub serving: bool,
    /// It has been heard from.
    pub heard: Option<bool>,
    /// Its last state is UP and its last heartbeat within the DOWN delay.
    pub fresh_up: Option<bool>,
}

impl ConnectionCondition {
    /// Whether a device with these facts meets the condition.
    pub fn holds(
        &self,
        serving: bool,
        heard: Option<Heard>,
        now: Timestamp,
        down_after: SignedDuration,
    ) -> bool {
        let fits = |want: Option<bool>, fact: bool| want.is_none_or(|w| w == fact);
        let fresh_up = heard
            .is_some_and(|h| h.state.is_up() && now.duration_since(h.last_heartbeat) <= down_after);
        self.serving == serving
            && (!serving || fits(self.heard, heard.is_some()) && fits(self.fresh_up, fresh_up))
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no connection state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a connection state is in_stock, never_connected, up or down, not {0:?}")]
pub struct UnknownConnectionState(pub String);

impl FromStr for ConnectionState {
    type Err = UnknownConnectionState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConnectionState::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownConnectionState(s.to_owned()))
    }
}

/// What the monitor recorded of a device that was heard from: its state and last heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    pub state: MonitorState,
    pub last_heartbeat: Timestamp,
}

/// A device's connection state at `now` (devices.md D.4): in stock when it serves no contract,
/// never connected when it was never heard from, DOWN when the monitor marked it so or when
/// its last heartbeat is more than `down_after` before `now` (the monitor's sweep may not have
/// run yet), UP otherwise. Silent for exactly `down_after` is still UP, as the sweep counts it.
///
/// ```
/// use jiff::Timestamp;
/// use mpc_domain::monitoring::{ConnectionState, DOWN_AFTER, Heard, MonitorState, classify};
///
/// let beat = Timestamp::from_second(1_000).unwrap();
/// let heard = Some(Heard { state: MonitorState::Up, last_heartbeat: beat });
/// let at = |s| Timestamp::from_second(s).unwrap();
/// // 15 minutes are 900 s: UP at 1 900 s, DOWN a second later.
/// assert_eq!(classify(true, heard, at(1_900), DOWN_AFTER), ConnectionState::Up);
/// assert_eq!(classify(true, heard, at(1_901), DOWN_AFTER), ConnectionState::Down);
/// assert_eq!(classify(true, None, at(1_901), DOWN_AFTER), ConnectionState::NeverConnected);
/// assert_eq!(classify(false, heard, at(1_000), DOWN_AFTER), ConnectionState::InStock);
/// ```
pub fn classify(
    serving: bool,
    heard: Option<Heard>,
    now: Timestamp,
    down_after: SignedDuration,
) -> ConnectionState {
    if !serving {
        return ConnectionState::InStock;
    }
    let Some(heard) = heard else {
        return ConnectionState::NeverConnected;
    };
    if heard.state.is_up() && now.duration_since(heard.last_heartbeat) <= down_after {
        ConnectionState::Up
    } else {
        ConnectionState::Down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn each_state_s_condition_holds_exactly_for_the_devices_classified_so() {
        let now = at(10_000);
        for serving in [false, true] {
            for heard in [
                None,
                Some((MonitorState::Up, 10_000 - 300)),
                Some((MonitorState::Up, 10_000 - DOWN_AFTER.as_secs())),
                Some((MonitorState::Up, 10_000 - DOWN_AFTER.as_secs() - 1)),
                Some((MonitorState::Down, 9_999)),
            ] {
                let heard = heard.map(|(state, second)| Heard {
                    state,
                    last_heartbeat: at(second),
                });
                let state = classify(serving, heard, now, DOWN_AFTER);
                for candidate in ConnectionState::ALL {
                    assert_eq!(
                        candidate.condition().holds(serving, heard, now, DOWN_AFTER),
                        candidate == state,
                        "{candidate:?} for {state:?}: serving {serving}, {heard:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_device_never_heard_from_is_never_down() {
        assert_eq!(
            classify(true, None, at(10_000_000), DOWN_AFTER),
            ConnectionState::NeverConnected
        );
        assert_eq!(
            classify(false, None, at(0), DOWN_AFTER),
            ConnectionState::InStock
        );
    }

    #[test]
    fn down_after_the_delay_not_at_it() {
        let heard = Some(Heard {
            state: MonitorState::Up,
            last_heartbeat: at(1_000),
        });
        // Last heartbeat at 1 000 s, delay 15 min = 900 s: UP until 1 900 s included, DOWN
        // one microsecond later.
        assert_eq!(
            classify(true, heard, at(1_900), DOWN_AFTER),
            ConnectionState::Up
        );
        let just_after = at(1_900) + SignedDuration::from_micros(1);
        assert_eq!(
            classify(true, heard, just_after, DOWN_AFTER),
            ConnectionState::Down
        );
        // Marked DOWN by the monitor: DOWN whatever the clock says.
        let marked = Some(Heard {
            state: MonitorState::Down,
            last_heartbeat: at(1_000),
        });
        assert_eq!(
            classify(true, marked, at(1_000), DOWN_AFTER),
            ConnectionState::Down
        );
        // In stock wins over what the device says: it serves nobody.
        assert_eq!(
            classify(false, heard, at(1_000), DOWN_AFTER),
            ConnectionState::InStock
        );
    }

    #[test]
    fn connection_states_read_back() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for s in ConnectionState::ALL {
            assert_eq!(s.as_str().parse(), Ok(s));
            let de: StrDeserializer<'_, Error> = s.as_str().into_deserializer();
            assert_eq!(
                ConnectionState::deserialize(de),
                Ok(s),
                "serde and text agree"
            );
        }
        assert!("stale".parse::<ConnectionState>().is_err());
    }

    #[test]
    fn written_as_it_always_was() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for m in MonitorState::ALL {
            assert_eq!(m.as_str().parse(), Ok(m));
            let de: StrDeserializer<'_, Error> = m.as_str().into_deserializer();
            assert_eq!(MonitorState::deserialize(de), Ok(m), "serde and text agree");
        }
        assert_eq!(MonitorState::Up.to_string(), "up");
        assert_eq!(MonitorState::Down.to_string(), "down");
        assert!("UP".parse::<MonitorState>().is_err());
    }
}
