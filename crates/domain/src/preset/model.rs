//! What rendering needs to know about each device type (devices.md A).

use crate::catalog::DeviceType;

/// The facts of one model that change its recipe.
pub(super) struct Model {
    /// The Ethernet interface facing the line: `ge0`, on SEIL CA10 `ge4` (A.1–A.3).
    pub wan: &'static str,
    /// The Ethernet interface of the main LAN: `ge1`, on SEIL CA10 `ge5` (A.1–A.3).
    pub lan: &'static str,
    /// Whether `interface.pppoe0.over` exists: X4/CA10 line only; the SA-W2 line runs PPPoE
    /// on its WAN port implicitly and refuses the key (A.4).
    pub pppoe_over: bool,
    /// Whether a built-in mobile module (`ta1`) exists: SA-W2L only (A.2, R6.5).
    pub mobile: bool,
}

impl Model {
    pub(super) fn of(device: DeviceType) -> Self {
        match device {
            DeviceType::SeilX4 => Self {
                wan: "ge0",
                lan: "ge1",
                pppoe_over: true,
                mobile: false,
            },
            DeviceType::SaW2l => Self {
                wan: "ge0",
                lan: "ge1",
                pppoe_over: false,
                mobile: true,
            },
            DeviceType::SeilCa10 => Self {
                wan: "ge4",
                lan: "ge5",
                pppoe_over: true,
                mobile: false,
            },
        }
    }
}

/// The most concurrent remote-access sessions (`interface.pppac0.max-session`) a model takes.
///
/// SEIL/X4 and SEIL CA10: 1024, the upper bound of the X4-family pppac reference, which covers
/// X4, x86 Ayame and CA10 (devices.md A.1, A.3). SA-W2L: 256. No official SA-W2L figure was
/// found; 256 is the SA-W2 line's default according to seil2recipe, which also notes that the
/// line cannot be set to `none` (unlimited) (A.2, A.4). Taking the default as the ceiling is
/// the conservative reading.
pub fn max_sessions_limit(device: DeviceType) -> u16 {
    match device {
        DeviceType::SeilX4 | DeviceType::SeilCa10 => 1024,
        DeviceType::SaW2l => 256,
    }
}
