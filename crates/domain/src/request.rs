//! What contractors ask for, and deciding it on acceptance.
//!
//! Contractors submit [`Request`]s; an operator accepts each with its dates (the acceptance
//! date, or the day a notice arrived), and [`decide`] turns it into effects through the rule
//! of each kind. The same function checks a request when it is submitted, so a request the
//! rules would refuse is refused at once.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::account::FieldError;
use crate::book::{Book, Device, Effect};
use crate::catalog::{ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind};
use crate::contract::{self, Application, ManagementAccess};
use crate::custody::{self, Delivery, ReplacementCause};
use crate::ending::{self, Termination};
use crate::option::{self, GroupChoice, NewOption};

/// The packet share group a `packet_share` SIM is to join, or the new group it founds (R6.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct GroupRequest {
    /// An existing group to join.
    pub group_id: Option<String>,
    /// The pack of a new group, in whole GB (≥ 50, R9.6).
    pub new_group_pack_gb: Option<u32>,
}

/// A contractor's request, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Apply for a management or service-adapter contract (R1–R4).
    ApplyContract {
        contract_kind: ContractKind,
        item: Option<Item>,
        device_type: Option<DeviceType>,
        /// Service adapters: the management to be controlled under (R6.2).
        management_id: Option<String>,
        /// The site name the contract is to be shown with (at most 60 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    /// R8.1.
    ChangeItem { contract_id: String, item: Item },
    /// R9.1.
    AddOption {
        contract_id: String,
        option_kind: OptionKind,
        install_address: Option<String>,
        usage_type: Option<MobileUsageType>,
        network_type: Option<NetworkType>,
        group: Option<GroupRequest>,
    },
    /// R9.4.
    ChangeUsageType {
        option_id: String,
        usage_type: MobileUsageType,
        group: Option<GroupRequest>,
    },
    /// R9.5.
    ChangeNetworkType {
        option_id: String,
        network_type: NetworkType,
    },
    /// R9.6.
    ChangePack { group_id: String, pack_gb: u32 },
    /// R13.1: notice of cancellation, optionally naming the day the contractor wants.
    CancelContract {
        contract_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
        requested_on: Option<Date>,
    },
    /// R9.10.
    StopOption {
        option_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
        requested_on: Option<Date>,
    },
    /// R9.10, R9.7.
    StopGroup {
        group_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
        requested_on: Option<Date>,
    },
    /// R7.1.
    NotifySerial { contract_id: String, serial: String },
    /// R11.
    ReportFailure {
        contract_id: String,
        description: Option<String>,
    },
    /// R12.
    ReportLoss { contract_id: String },
}

impl Request {
    /// Checks what the request brings in from outside before anything decides on it: every
    /// date within the business dates ([`crate::calendar::business_date`]) and every text
    /// within its limit (issue 15). The field is named as in the API body (`request.…`).
    ///
    /// # Errors
    /// The first field out of bounds.
    pub fn check_entry(&self) -> Result<(), FieldError> {
        use crate::account::{MAX_ADDRESS_CHARS, MAX_DESCRIPTION_CHARS, MAX_SERIAL_CHARS, bounded};
        match self {
            Request::CancelContract { requested_on, .. }
            | Request::StopOption { requested_on, .. }
            | Request::StopGroup { requested_on, .. } => {
                entry_date("request.requested_on", *requested_on)
            }
            Request::NotifySerial { serial, .. } => {
                bounded("request.serial", Some(serial), MAX_SERIAL_CHARS)
            }
            Request::ReportFailure { description, .. } => bounded(
                "request.description",
                description.as_deref(),
                MAX_DESCRIPTION_CHARS,
            ),
            Request::ApplyContract {
                label: Some(label), ..
            } => crate::contract_number::label("request.label", label).map(drop),
            Request::AddOption {
                install_address, ..
            } => bounded(
                "request.install_address",
                install_address.as_deref(),
                MAX_ADDRESS_CHARS,
            ),
            _ => Ok(()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Request::ApplyContract { .. } => "apply_contract",
            Request::ChangeItem { .. } => "change_item",
            Request::AddOption { .. } => "add_option",
            Request::ChangeUsageType { .. } => "change_usage_type",
            Request::ChangeNetworkType { .. } => "change_network_type",
            Request::ChangePack { .. } => "change_pack",
            Request::CancelContract { .. } => "cancel_contract",
            Request::StopOption { .. } => "stop_option",
            Request::StopGroup { .. } => "stop_group",
            Request::NotifySerial { .. } => "notify_serial",
            Request::ReportFailure { .. } => "report_failure",
            Request::ReportLoss { .. } => "report_loss",
        }
    }

    /// The contract, option or packet share group the request is about; none for an
    /// application, which is about a contract yet to be.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Request::ApplyContract { .. } => None,
            Request::ChangeItem { contract_id, .. }
            | Request::AddOption { contract_id, .. }
            | Request::CancelContract { contract_id, .. }
            | Request::NotifySerial { contract_id, .. }
            | Request::ReportFailure { contract_id, .. }
            | Request::ReportLoss { contract_id } => Some(contract_id),
            Request::ChangeUsageType { option_id, .. }
            | Request::ChangeNetworkType { option_id, .. }
            | Request::StopOption { option_id, .. } => Some(option_id),
            Request::ChangePack { group_id, .. } | Request::StopGroup { group_id, .. } => {
                Some(group_id)
            }
        }
    }

    /// The contract the request is about, for kinds about one (not an application).
    pub fn contract(&self) -> Option<&str> {
        match self {
            Request::ChangeItem { contract_id, .. }
            | Request::AddOption { contract_id, .. }
            | Request::CancelContract { contract_id, .. }
            | Request::NotifySerial { contract_id, .. }
            | Request::ReportFailure { contract_id, .. }
            | Request::ReportLoss { contract_id } => Some(contract_id),
            _ => None,
        }
    }

    /// The field naming a contract, for kinds that name one: the contract the request is
    /// about, or the management an application is to be controlled under. Callers naming a
    /// contract by its number have it replaced by the contract's id here before anything
    /// decides.
    pub fn contract_mut(&mut self) -> Option<&mut String> {
        match self {
            Request::ApplyContract { management_id, .. } => management_id.as_mut(),
            Request::ChangeItem { contract_id, .. }
            | Request::AddOption { contract_id, .. }
            | Request::CancelContract { contract_id, .. }
            | Request::NotifySerial { contract_id, .. }
            | Request::ReportFailure { contract_id, .. }
            | Request::ReportLoss { contract_id } => Some(contract_id),
            Request::ChangeUsageType { .. }
            | Request::ChangeNetworkType { .. }
            | Request::ChangePack { .. }
            | Request::StopOption { .. }
            | Request::StopGroup { .. } => None,
        }
    }

    /// A notice (R13.1, R9.10) takes effect from the day it arrives, not from acceptance.
    pub fn is_notice(&self) -> bool {
        matches!(
            self,
            Request::CancelContract { .. } | Request::StopOption { .. } | Request::StopGroup { .. }
        )
    }

    /// The serial a decision needs to know about, if any.
    pub fn serial(&self) -> Option<&str> {
        match self {
            Request::NotifySerial { serial, .. } => Some(serial),
            _ => None,
        }
    }
}

/// Every kind of request, as [`Request::kind`] names it and as the API filters on them.
pub const KINDS: [&str; 12] = [
    "apply_contract",
    "change_item",
    "add_option",
    "change_usage_type",
    "change_network_type",
    "change_pack",
    "cancel_contract",
    "stop_option",
    "stop_group",
    "notify_serial",
    "report_failure",
    "report_loss",
];

/// The states a request can be in, as stored and as the API filters on them: the texts of
/// [`RequestStatus::ALL`].
pub const STATUSES: [&str; 4] = ["pending", "accepted", "rejected", "withdrawn"];

crate::state::states! {
    /// Where a request stands: pending until an operator accepts or rejects it or its
    /// contractor withdraws it; accepted at once when an operator submits it with its dates.
    pub enum RequestStatus ("request status") {
        Pending = "pending",
        Accepted = "accepted",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
}

/// A request is decided or withdrawn once: only a `pending` one is closed. Not a regulation
/// rule but the workflow's, so the refusal's code is `request_closed` rather than an R-id.
///
/// # Errors
/// `request_closed` naming the state the request is already in.
pub fn check_pending(status: RequestStatus) -> Result<(), Refusal> {
    if status == RequestStatus::Pending {
        return Ok(());
    }
    Err(Refusal::new(
        "request_closed",
        format!("the request is already {status}"),
        "この申込は既に処理済みです",
    ))
}

/// A date given from outside, refused as the field `field` when outside the business dates.
fn entry_date(field: &'static str, date: Option<Date>) -> Result<(), FieldError> {
    match date.map(crate::calendar::business_date) {
        Some(Err(e)) => Err(FieldError::new(
            field,
            format!("{field}: {e}"),
            format!("{field} は 2000-01-01 から 2099-12-31 までの日付で指定してください"),
        )),
        _ => Ok(()),
    }
}

impl Acceptance {
    /// Checks the acceptance's dates and texts as [`Request::check_entry`] does (`accept.…`).
    ///
    /// # Errors
    /// The first field out of bounds.
    pub fn check_entry(&self) -> Result<(), FieldError> {
        use crate::account::{MAX_SERIAL_CHARS, bounded};
        entry_date("accept.on", self.on)?;
        entry_date("accept.replaced_on", self.replaced_on)?;
        bounded(
            "accept.replacement_serial",
            self.replacement_serial.as_deref(),
            MAX_SERIAL_CHARS,
        )
    }
}

/// What the operator records when accepting.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// Acceptance date; for a notice, the day it arrived (R13.1, R9.10).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub on: Option<Date>,
    /// Failure and loss: the serial of the replacement (R11.1, R12.1).
    pub replacement_serial: Option<String>,
    /// Failure and loss: the day the replacement takes over (defaults to the acceptance day).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub replaced_on: Option<Date>,
    /// Failure: whether the contractor caused it (R11.2).
    #[serde(default)]
    pub contractor_caused: bool,
    /// Cancellation: by the contractor's notice or by the operator under the general terms.
    pub termination: Option<Termination>,
}

/// What deciding needs from outside the contractor's book.
pub struct Context<'a> {
    /// For an application: the management named (R6.2), as storage found it.
    pub management: Option<ManagementAccess<'a>>,
    /// The device behind the serial being notified or installed as replacement, if known.
    pub device: Option<&'a Device>,
    /// Whether the device now serving the contract named by the request ever fetched that
    /// contract's configuration (a notified serial can be corrected until then, R7.1).
    pub current_fetched: bool,
    /// Makes a fresh id for anything the decision creates.
    pub new_id: &'a mut dyn FnMut() -> String,
}

/// The effects of accepting a request, and for replacements how the device travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub effects: Vec<Effect>,
    pub delivery: Option<Delivery>,
}

impl From<Vec<Effect>> for Decision {
    fn from(effects: Vec<Effect>) -> Self {
        Decision {
            effects,
            delivery: None,
        }
    }
}

fn group_choice(
    g: Option<&GroupRequest>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Option<GroupChoice>, Refusal> {
    match g {
        None => Ok(None),
        Some(GroupRequest {
            group_id: Some(id),
            new_group_pack_gb: None,
        }) => Ok(Some(GroupChoice::Join {
            group_id: id.clone(),
        })),
        Some(GroupRequest {
            group_id: None,
            new_group_pack_gb: Some(gb),
        }) => Ok(Some(GroupChoice::Create {
            group_id: new_id(),
            pack_gb: *gb,
        })),
        Some(_) => Err(Refusal::new(
            "R6.7",
            "name either an existing group (group_id) or the pack of a new one (new_group_pack_gb)",
            "既存のグループか新しいグループのパケットパックのどちらか一方を指定してください",
        )),
    }
}

/// What a request does the moment it is submitted, before anyone accepts it: a loss report
/// takes the device out of service at once (R12.3), since it is in unknown hands.
///
/// # Errors
/// The refusal of the rule that forbids it.
pub fn on_submission(
    book: &Book,
    request: &Request,
    submitted_on: Date,
) -> Result<Vec<Effect>, Refusal> {
    match request {
        Request::ReportLoss { contract_id } => {
            custody::report_loss(book, contract_id, submitted_on)
        }
        _ => Ok(Vec::new()),
    }
}

/// Decides a request of `contractor_id`, submitted on `submitted_on` and accepted as
/// `acceptance` says (its date defaults to the submission day).
///
/// # Errors
/// The refusal of the rule that forbids it; `not_found` when the request names something
/// outside the contractor's book.
pub fn decide(
    book: &Book,
    contractor_id: &str,
    request: &Request,
    submitted_on: Date,
    acceptance: &Acceptance,
    ctx: Context<'_>,
) -> Result<Decision, Refusal> {
    let on = acceptance.on.unwrap_or(submitted_on);
    if on < submitted_on && !request.is_notice() {
        return Err(contract::refuse_date_order("acceptance", submitted_on, on));
    }
    let new_id = ctx.new_id;
    Ok(match request {
        Request::ApplyContract {
            contract_kind,
            item,
            device_type,
            management_id,
            label,
        } => contract::accept_application(
            &Application {
                id: new_id(),
                contractor_id: contractor_id.to_owned(),
                kind: *contract_kind,
                item: *item,
                device_type: *device_type,
                management_id: management_id.clone(),
                applied_on: submitted_on,
                label: label.clone().unwrap_or_default(),
            },
            ctx.management,
            on,
        )?
        .into(),
        Request::ChangeItem { contract_id, item } => {
            contract::change_item(book, contract_id, *item, on, &new_id())?.into()
        }
        Request::AddOption {
            contract_id,
            option_kind,
            install_address,
            usage_type,
            network_type,
            group,
        } => {
            let group = group_choice(group.as_ref(), new_id)?;
            option::add_option(
                book,
                &NewOption {
                    id: new_id(),
                    contract_id: contract_id.clone(),
                    kind: *option_kind,
                    applied_on: submitted_on,
                    install_address: install_address.clone(),
                    usage_type: *usage_type,
                    network_type: *network_type,
                    group,
                },
                on,
            )?
            .into()
        }
        Request::ChangeUsageType {
            option_id,
            usage_type,
            group,
        } => {
            let group = group_choice(group.as_ref(), new_id)?;
            option::change_usage_type(
                book,
                option_id,
                *usage_type,
                group.as_ref(),
                submitted_on,
                on,
            )?
            .into()
        }
        Request::ChangeNetworkType {
            option_id,
            network_type,
        } => option::change_network_type(book, option_id, *network_type, on, &new_id())?.into(),
        Request::ChangePack { group_id, pack_gb } => {
            option::change_pack(book, group_id, *pack_gb, on)?.into()
        }
        Request::CancelContract {
            contract_id,
            requested_on,
        } => ending::cancel_contract(
            book,
            contract_id,
            acceptance.termination.unwrap_or(Termination::Notice),
            on,
            *requested_on,
        )?
        .into(),
        Request::StopOption {
            option_id,
            requested_on,
        } => ending::stop_option(book, option_id, on, *requested_on)?.into(),
        Request::StopGroup {
            group_id,
            requested_on,
        } => ending::stop_group(book, group_id, on, *requested_on)?.into(),
        Request::NotifySerial {
            contract_id,
            serial,
        } => custody::notify_serial(
            book,
            ctx.device,
            contract_id,
            serial,
            on,
            ctx.current_fetched,
        )?
        .into(),
        Request::ReportFailure { contract_id, .. } | Request::ReportLoss { contract_id } => {
            let cause = if matches!(request, Request::ReportLoss { .. }) {
                ReplacementCause::Loss
            } else {
                ReplacementCause::Failure {
                    contractor_caused: acceptance.contractor_caused,
                }
            };
            let Some(serial) = acceptance.replacement_serial.as_deref() else {
                if cause == ReplacementCause::Loss {
                    // Lost from the report on, with or without a replacement (R12.2, R12.3).
                    let contract = contract::find_contract(book, contract_id)?;
                    contract::require_active(contract, on, "R12.1")?;
                    return Ok(custody::accept_loss(
                        book,
                        contract_id,
                        submitted_on.min(on),
                        &new_id(),
                    )?
                    .into());
                }
                // At submission nothing is shipped yet: check the contract has a device.
                let contract = contract::find_contract(book, contract_id)?;
                contract::require_active(contract, on, "R11.1")?;
                book.device_of(contract_id, on).ok_or_else(|| {
                    Refusal::new(
                        "R11.1",
                        format!("contract {} has no device on {on}", contract.name()),
                        format!("契約 {} には {on} に機器がありません", contract.name()),
                    )
                })?;
                return Ok(Vec::new().into());
            };
            let replacement = custody::replace_device(
                book,
                ctx.device,
                contract_id,
                cause,
                submitted_on.min(on),
                serial,
                acceptance.replaced_on.unwrap_or(on),
                &new_id(),
            )?;
            Decision {
                effects: replacement.effects,
                delivery: Some(replacement.delivery),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_listed_is_a_request_and_no_other() {
        for kind in KINDS {
            let e = serde_json::from_value::<Request>(serde_json::json!({ "kind": kind }))
                .map(|r| r.kind())
                .map_err(|e| e.to_string());
            assert!(
                e.as_ref().is_err_and(|m| !m.contains("unknown variant")) || e == Ok(kind),
                "{kind}: {e:?}"
            );
        }
        let e = serde_json::from_value::<Request>(serde_json::json!({ "kind": "x" })).unwrap_err();
        // serde lists the variants it knows: exactly KINDS.
        for kind in KINDS {
            assert!(e.to_string().contains(&format!("`{kind}`")), "{e}");
        }
        assert_eq!(
            e.to_string().matches('`').count(),
            2 * (KINDS.len() + 1),
            "{e}"
        );
    }

    #[test]
    fn request_statuses_read_and_write_their_stored_names() {
        for (status, name) in RequestStatus::ALL.into_iter().zip(STATUSES) {
            assert_eq!(status.as_str(), name);
            assert_eq!(name.parse::<RequestStatus>(), Ok(status));
        }
        assert!("open".parse::<RequestStatus>().is_err());
    }

    use super::*;

    #[test]
    fn only_a_pending_request_is_closed() {
        assert_eq!(check_pending(RequestStatus::Pending), Ok(()));
        assert_eq!(RequestStatus::ALL.map(RequestStatus::as_str), STATUSES);
        for status in [
            RequestStatus::Accepted,
            RequestStatus::Rejected,
            RequestStatus::Withdrawn,
        ] {
            let r = check_pending(status).unwrap_err();
            assert_eq!(r.rule, "request_closed");
            assert_eq!(r.message_en, format!("the request is already {status}"));
        }
    }
}
