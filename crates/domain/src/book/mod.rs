//! The state the contract rules decide on: one contractor's contracts, options, packet share
//! groups and devices, each with its dated history.
//!
//! Changes are effective-dated: an item, usage type, network type or pack holds from a date on,
//! so the same [`Book`] answers "as of" any day, past or scheduled. Rules never mutate a book;
//! they return [`Effect`]s, which [`Book::apply`] (and the storage layer) carry out.
//!
//! Here: the book, its contracts, options and groups; the effects and one-time charges rules
//! return in `effect.rs`; devices and their custody states in `device.rs`.

mod device;
mod effect;

pub use device::*;
pub use effect::*;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::Month;
use crate::catalog::{ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind};
use crate::contract_number::ContractNumber;

/// A value that changes on given dates: each entry holds from its date until the next entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline<T>(Vec<(Date, T)>);

/// In the API: dated values in date order, each `[from, value]`.
#[cfg(feature = "openapi")]
impl<T: utoipa::ToSchema> utoipa::__dev::ComposeSchema for Timeline<T> {
    fn compose(
        generics: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type,
        };
        let from = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
        ArrayBuilder::new()
            .items(
                ArrayBuilder::new()
                    .prefix_items([
                        from.into(),
                        generics.into_iter().next().unwrap_or_else(T::schema),
                    ])
                    .min_items(Some(2))
                    .max_items(Some(2)),
            )
            .description(Some("Dated values in date order, each `[from, value]`."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl<T: utoipa::ToSchema> utoipa::ToSchema for Timeline<T> {}

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline(Vec::new())
    }
}

impl<T: Clone> Timeline<T> {
    pub fn starting(on: Date, value: T) -> Self {
        Timeline(vec![(on, value)])
    }

    /// The value in force on `date`, if any started by then.
    pub fn at(&self, date: Date) -> Option<&T> {
        self.0
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .map(|(_, v)| v)
    }

    /// Makes `value` hold from `from` on, replacing whatever was scheduled from that day.
    pub fn set_from(&mut self, from: Date, value: T) {
        self.0.retain(|(d, _)| *d < from);
        self.0.push((from, value));
    }

    /// The first change scheduled after `date`.
    pub fn next_after(&self, date: Date) -> Option<(Date, &T)> {
        self.0.iter().find(|(d, _)| *d > date).map(|(d, v)| (*d, v))
    }

    /// Every (from, value) in date order.
    pub fn entries(&self) -> &[(Date, T)] {
        &self.0
    }

    pub fn from_entries(mut entries: Vec<(Date, T)>) -> Self {
        entries.sort_by_key(|(d, _)| *d);
        Timeline(entries)
    }
}

/// Why a contract, option or group ends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The contractor gave notice (R13.1 for contracts, R9.10 for options).
    Notice,
    /// Its `ultra_sendback` option stopped (R13.2).
    SendbackStopped,
    /// Its contract ended (R13.3).
    ContractEnded,
    /// Its packet share group stopped (R9.7).
    GroupStopped,
    /// Its last `packet_share` member left (R9.7).
    LastMemberLeft,
    /// Cancelled by the operator under Art. 28 §2 of the general terms (R15.2).
    GeneralTermsArt28Para2,
    /// Cancelled by the operator under Art. 28 §3 of the general terms (R15.2).
    GeneralTermsArt28Para3,
}

impl EndReason {
    /// The rule that makes this end.
    pub fn rule(self) -> &'static str {
        match self {
            EndReason::Notice => "R13.1",
            EndReason::SendbackStopped => "R13.2",
            EndReason::ContractEnded => "R13.3",
            EndReason::GroupStopped | EndReason::LastMemberLeft => "R9.7",
            EndReason::GeneralTermsArt28Para2 | EndReason::GeneralTermsArt28Para3 => "R15.2",
        }
    }
}

/// When and why something ends. The end date is its last day of service (D6).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub on: Date,
    pub reason: EndReason,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub notice_arrived_on: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub requested_on: Option<Date>,
    /// No early-termination charge is owed (R15.2): the end was, or follows from, a
    /// cancellation under Art. 28 §2 or §3 of the general terms.
    pub exempt_from_early_termination: bool,
}

impl Ending {
    /// An end that follows from another one (a cascade): same day, inherited exemption.
    pub fn following(cause: &Ending, reason: EndReason, on: Date) -> Ending {
        Ending {
            on,
            reason,
            notice_arrived_on: None,
            requested_on: None,
            exempt_from_early_termination: cause.exempt_from_early_termination,
        }
    }
}

/// Where something stands on a given day.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Accepted for a later date.
    Pending,
    Active,
    Ended,
}

fn status(accepted_on: Date, ending: Option<&Ending>, date: Date) -> Status {
    if date < accepted_on {
        Status::Pending
    } else if ending.is_some_and(|e| date > e.on) {
        Status::Ended
    } else {
        Status::Active
    }
}

/// A contract (R4.1): one management or one service adapter.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub contractor_id: String,
    pub kind: ContractKind,
    /// Service adapters only (R3.1).
    pub device_type: Option<DeviceType>,
    /// Service adapters only (R2.1); changes on acceptance of an item change (R8.1).
    pub items: Timeline<Item>,
    /// Service adapters: the management contract they are controlled under, the contractor's
    /// own or another contractor's by consented designation (R6.2).
    pub management_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub applied_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub accepted_on: Date,
    /// Set when the service is made available (R5.2); no fee or minimum period runs before.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub billing_start: Option<Date>,
    pub ending: Option<Ending>,
    /// The number people say and type (`C-000123`): given when the contract is written on
    /// acceptance, never reused; none only in a decision not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "C-000123"))]
    pub number: Option<ContractNumber>,
    /// The site name its contractor gives it (本社 …); empty when none.
    #[serde(default)]
    pub label: String,
}

impl Contract {
    pub fn status(&self, date: Date) -> Status {
        status(self.accepted_on, self.ending.as_ref(), date)
    }

    pub fn is_active(&self, date: Date) -> bool {
        self.status(date) == Status::Active
    }

    pub fn item(&self, date: Date) -> Option<Item> {
        self.items.at(date).copied()
    }

    pub fn end_on(&self) -> Option<Date> {
        self.ending.as_ref().map(|e| e.on)
    }

    /// How a refusal names it: its number (`C-000123`), which people know it by, or its id
    /// before it has one.
    pub fn name(&self) -> String {
        self.number
            .map_or_else(|| self.id.clone(), |n| n.to_string())
    }
}

/// An option of a service-adapter contract: `ultra_sendback` or `mobile_access` (R9.1).
/// Packet share groups are [`PacketShareGroup`]s.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractOption {
    pub id: String,
    pub contract_id: String,
    pub kind: OptionKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub applied_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub accepted_on: Date,
    /// `ultra_sendback`: where staff bring the replacement (R9.2).
    pub install_address: Option<String>,
    /// `mobile_access` (R9.3, R9.4).
    pub usage_types: Timeline<MobileUsageType>,
    /// `mobile_access` (R9.3, R9.5).
    pub network_types: Timeline<NetworkType>,
    pub ending: Option<Ending>,
}

impl ContractOption {
    pub fn status(&self, date: Date) -> Status {
        status(self.accepted_on, self.ending.as_ref(), date)
    }

    pub fn is_active(&self, date: Date) -> bool {
        self.status(date) == Status::Active
    }

    pub fn usage_type(&self, date: Date) -> Option<MobileUsageType> {
        self.usage_types.at(date).copied()
    }

    pub fn network_type(&self, date: Date) -> Option<NetworkType> {
        self.network_types.at(date).copied()
    }

    pub fn end_on(&self) -> Option<Date> {
        self.ending.as_ref().map(|e| e.on)
    }

    /// The option's billing start (R9.1): the later of its acceptance and its contract's
    /// billing start; none while the contract's is not set.
    pub fn billing_start(&self, contract: &Contract) -> Option<Date> {
        contract.billing_start.map(|b| b.max(self.accepted_on))
    }
}

/// A `mobile_access` option's membership of a packet share group, both days inclusive.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub option_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub until: Option<Date>,
}

impl Membership {
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && self.until.is_none_or(|u| date <= u)
    }

    /// Whether the option was a member on some day of `month`.
    pub fn in_month(&self, month: Month) -> bool {
        self.from <= month.last_day() && self.until.is_none_or(|u| u >= month.first_day())
    }

    /// Whether the option was a member on every day of `month`.
    pub fn whole_month(&self, month: Month) -> bool {
        self.from <= month.first_day() && self.until.is_none_or(|u| u >= month.last_day())
    }
}

/// A packet share group (R9.6, R9.7): `packet_share` SIMs sharing a monthly pack.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketShareGroup {
    pub id: String,
    pub contractor_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub applied_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub accepted_on: Date,
    /// The monthly pack in whole GB, at least 50 (R9.6).
    pub packs: Timeline<u32>,
    pub members: Vec<Membership>,
    pub ending: Option<Ending>,
}

impl PacketShareGroup {
    pub fn status(&self, date: Date) -> Status {
        status(self.accepted_on, self.ending.as_ref(), date)
    }

    pub fn is_active(&self, date: Date) -> bool {
        self.status(date) == Status::Active
    }

    pub fn pack_gb(&self, date: Date) -> Option<u32> {
        self.packs.at(date).copied()
    }

    pub fn members_on(&self, date: Date) -> impl Iterator<Item = &Membership> {
        self.members.iter().filter(move |m| m.covers(date))
    }

    pub fn end_on(&self) -> Option<Date> {
        self.ending.as_ref().map(|e| e.on)
    }
}

/// Everything the contract rules need about one contractor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    pub contracts: Vec<Contract>,
    pub options: Vec<ContractOption>,
    pub groups: Vec<PacketShareGroup>,
    /// The devices that serve or served these contracts.
    pub devices: Vec<Device>,
}

impl Book {
    pub fn contract(&self, id: &str) -> Option<&Contract> {
        self.contracts.iter().find(|c| c.id == id)
    }

    /// How a refusal names contract `id`: its number, or `id` itself when it has none here.
    pub fn contract_name(&self, id: &str) -> String {
        self.contract(id)
            .map_or_else(|| id.to_owned(), Contract::name)
    }

    pub fn option(&self, id: &str) -> Option<&ContractOption> {
        self.options.iter().find(|o| o.id == id)
    }

    pub fn group(&self, id: &str) -> Option<&PacketShareGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn options_of<'a>(
        &'a self,
        contract_id: &'a str,
    ) -> impl Iterator<Item = &'a ContractOption> {
        self.options
            .iter()
            .filter(move |o| o.contract_id == contract_id)
    }

    pub fn device(&self, serial: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.serial == serial)
    }

    /// The device `serial`, for a decision about it (a return, a find, a loss).
    ///
    /// # Errors
    /// `not_found` when the book holds no such device.
    pub fn known_device(&self, serial: &str) -> Result<&Device, crate::Refusal> {
        self.device(serial)
            .ok_or_else(crate::custody::unknown_device)
    }

    /// The device serving `contract_id` on `date`.
    pub fn device_of(&self, contract_id: &str, date: Date) -> Option<&Device> {
        self.devices.iter().find(|d| {
            d.assignments
                .iter()
                .any(|a| a.contract_id == contract_id && a.covers(date))
        })
    }

    /// The `mobile_access` option of `contract_id` in service on `date` (R9.3), whose line the
    /// SA-W2L's built-in module dials (R6.5). Should there be several, the first by id.
    pub fn mobile_access_of(&self, contract_id: &str, date: Date) -> Option<&ContractOption> {
        self.options
            .iter()
            .filter(|o| o.contract_id == contract_id)
            .filter(|o| o.kind == OptionKind::MobileAccess && o.is_active(date))
            .min_by(|a, b| a.id.cmp(&b.id))
    }

    /// The group a `mobile_access` option belongs to on `date`.
    pub fn group_of(&self, option_id: &str, date: Date) -> Option<&PacketShareGroup> {
        self.groups.iter().find(|g| {
            g.members
                .iter()
                .any(|m| m.option_id == option_id && m.covers(date))
        })
    }

    /// Carries out one effect.
    pub fn apply(&mut self, effect: &Effect) {
        match effect {
            Effect::ContractCreated(c) => self.contracts.push(c.clone()),
            Effect::BillingStartSet { contract_id, on } => {
                if let Some(c) = self.contracts.iter_mut().find(|c| &c.id == contract_id) {
                    c.billing_start = Some(*on);
                }
            }
            Effect::ItemChanged {
                contract_id,
                item,
                from,
            } => {
                if let Some(c) = self.contracts.iter_mut().find(|c| &c.id == contract_id) {
                    c.items.set_from(*from, *item);
                }
            }
            Effect::ContractEnds {
                contract_id,
                ending,
            } => {
                if let Some(c) = self.contracts.iter_mut().find(|c| &c.id == contract_id) {
                    c.ending = Some(ending.clone());
                }
            }
            Effect::OptionCreated(o) => self.options.push(o.clone()),
            Effect::UsageTypeChanged {
                option_id,
                usage_type,
                from,
            } => {
                if let Some(o) = self.options.iter_mut().find(|o| &o.id == option_id) {
                    o.usage_types.set_from(*from, *usage_type);
                }
            }
            Effect::NetworkTypeChanged {
                option_id,
                network_type,
                from,
            } => {
                if let Some(o) = self.options.iter_mut().find(|o| &o.id == option_id) {
                    o.network_types.set_from(*from, *network_type);
                }
            }
            Effect::OptionEnds { option_id, ending } => {
                if let Some(o) = self.options.iter_mut().find(|o| &o.id == option_id) {
                    o.ending = Some(ending.clone());
                }
            }
            Effect::GroupCreated(g) => self.groups.push(g.clone()),
            Effect::PackChanged { group_id, gb, from } => {
                if let Some(g) = self.groups.iter_mut().find(|g| &g.id == group_id) {
                    g.packs.set_from(*from, *gb);
                }
            }
            Effect::MemberJoined {
                group_id,
                option_id,
                from,
            } => {
                if let Some(g) = self.groups.iter_mut().find(|g| &g.id == group_id) {
                    g.members.push(Membership {
                        option_id: option_id.clone(),
                        from: *from,
                        until: None,
                    });
                }
            }
            Effect::MemberLeft {
                group_id,
                option_id,
                last_day,
            } => {
                if let Some(g) = self.groups.iter_mut().find(|g| &g.id == group_id) {
                    for m in g.members.iter_mut().filter(|m| &m.option_id == option_id) {
                        if m.until.is_none_or(|u| u > *last_day) {
                            m.until = Some(*last_day);
                        }
                    }
                }
            }
            Effect::GroupEnds { group_id, ending } => {
                if let Some(g) = self.groups.iter_mut().find(|g| &g.id == group_id) {
                    g.ending = Some(ending.clone());
                }
            }
            Effect::DeviceAssigned {
                serial,
                device_type,
                contract_id,
                from,
            } => {
                let assignment = Assignment {
                    contract_id: contract_id.clone(),
                    from: *from,
                    until: None,
                };
                match self.devices.iter_mut().find(|d| &d.serial == serial) {
                    Some(d) => {
                        d.return_due = None;
                        d.returned_on = None;
                        d.assignments.push(assignment);
                    }
                    None => self.devices.push(Device {
                        serial: serial.clone(),
                        device_type: *device_type,
                        assignments: vec![assignment],
                        return_due: None,
                        returned_on: None,
                        lost_on: None,
                        found_on: None,
                    }),
                }
            }
            Effect::DeviceReleased {
                serial,
                last_day,
                return_due,
            } => {
                if let Some(d) = self.devices.iter_mut().find(|d| &d.serial == serial) {
                    if let Some(a) = d.assignments.iter_mut().rev().find(|a| a.until.is_none()) {
                        a.until = Some(*last_day);
                    }
                    d.return_due = *return_due;
                }
            }
            Effect::DeviceReturned { serial, on } => {
                if let Some(d) = self.devices.iter_mut().find(|d| &d.serial == serial) {
                    d.returned_on = Some(*on);
                }
            }
            Effect::DeviceLost { serial, on } => {
                if let Some(d) = self.devices.iter_mut().find(|d| &d.serial == serial) {
                    if let Some(a) = d.assignments.iter_mut().rev().find(|a| a.until.is_none()) {
                        a.until = Some(*on);
                    }
                    d.lost_on = Some(*on);
                }
            }
            Effect::DeviceFound { serial, on } => {
                if let Some(d) = self.devices.iter_mut().find(|d| &d.serial == serial) {
                    d.found_on = Some(*on);
                }
            }
            Effect::NotificationWithdrawn {
                serial,
                contract_id,
            } => {
                if let Some(d) = self.devices.iter_mut().find(|d| &d.serial == serial) {
                    d.assignments
                        .retain(|a| !(a.until.is_none() && &a.contract_id == contract_id));
                }
            }
            Effect::Charge(_) => {}
        }
    }

    /// A copy with `effects` carried out: what the book would look like (for quotes).
    pub fn with(&self, effects: &[Effect]) -> Book {
        let mut book = self.clone();
        for e in effects {
            book.apply(e);
        }
        book
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn timeline_answers_as_of_any_day_and_replaces_what_was_scheduled() {
        let mut t = Timeline::starting(date(2026, 4, 1), "a");
        t.set_from(date(2026, 6, 1), "b");
        assert_eq!(t.at(date(2026, 3, 31)), None);
        assert_eq!(t.at(date(2026, 5, 31)), Some(&"a"));
        assert_eq!(t.at(date(2026, 6, 1)), Some(&"b"));
        assert_eq!(
            t.next_after(date(2026, 5, 1)),
            Some((date(2026, 6, 1), &"b"))
        );
        // A change from an earlier day replaces the later schedule.
        t.set_from(date(2026, 5, 15), "c");
        assert_eq!(t.entries().len(), 2);
        assert_eq!(t.at(date(2026, 7, 1)), Some(&"c"));
    }

    #[test]
    fn an_unknown_device_is_refused_as_not_found() {
        let refusal = Book::default().known_device("X4-0000").unwrap_err();
        assert_eq!(refusal.rule, "not_found");
    }
}
