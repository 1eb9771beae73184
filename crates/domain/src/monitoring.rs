//! A device's monitoring state: up while it sends heartbeats, down after a silence
//! (devices.md D.4) or before it was ever heard from.

use std::fmt;
use std::str::FromStr;

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

#[cfg(test)]
mod tests {
    use super::*;

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
