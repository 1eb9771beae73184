//! The typed form of each request kind: its inputs declared once, in the order the page shows
//! them, beside the conversions to and from the domain's [`Request`].
//!
//! A form's inputs are the fields of its struct (the input's name is the field's name, and an
//! `Option` is an input that may be left empty); [`Request`] is built from the struct and read
//! back into it by exhaustive patterns, so adding or renaming a field of a request kind stops
//! the build here, and `every_kind_round_trips_through_its_form` checks that what a form shows
//! reads back as the same request.

use std::collections::HashMap;

use jiff::civil::Date;
use mpc_domain::calendar::parse_business_date;
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use mpc_domain::request::{GroupRequest, Request};

use crate::web::Shown;
use crate::web::i18n::{Lang, Msgs};

/// What an input offers: free text, a date or a number, or a choice of the contractor's
/// contracts, options or groups, or of a catalog's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Text,
    Date,
    Number,
    /// The contractor's service adapter contracts that have not ended.
    Adapters,
    /// The contractor's management contracts that have not ended.
    Managements,
    /// The options of contracts that have not ended, of one kind or of any.
    Options(Option<OptionKind>),
    /// The packet share groups of the contractor's options.
    Groups,
    ContractKinds,
    Items,
    DeviceTypes,
    OptionKinds,
    UsageTypes,
    NetworkTypes,
}

/// One input of a form.
pub struct Spec {
    pub name: &'static str,
    pub label: fn(&Msgs) -> &'static str,
    pub source: Source,
    /// Required unless its field is an `Option`.
    pub required: bool,
}

/// A posted form, read input by input; an input that does not read is named with what to fix.
pub struct Posted<'f> {
    pub lang: Lang,
    pub form: &'f HashMap<String, String>,
}

impl Posted<'_> {
    pub fn problem(&self, field: &str, message: &str) -> Shown {
        let mut shown = Shown::message(422, "invalid_field", self.lang.t().op_check_fields);
        shown.fields.push((field.to_owned(), message.to_owned()));
        shown
    }

    /// The input's text, trimmed; `None` when left empty.
    fn text(&self, name: &str) -> Option<String> {
        self.form
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// A value an input holds: how it reads from the posted text and how the form shows it.
pub trait Value: Sized {
    const REQUIRED: bool;
    fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown>;
    /// The text of the input showing the value (the round-trip test shows every kind).
    #[cfg(test)]
    fn show(&self) -> String;
}

impl Value for Option<String> {
    const REQUIRED: bool = false;
    fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
        Ok(posted.text(name))
    }
    #[cfg(test)]
    fn show(&self) -> String {
        self.clone().unwrap_or_default()
    }
}

impl Value for String {
    const REQUIRED: bool = true;
    fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
        posted
            .text(name)
            .ok_or_else(|| posted.problem(name, posted.lang.t().op_required))
    }
    #[cfg(test)]
    fn show(&self) -> String {
        self.clone()
    }
}

impl Value for Option<u32> {
    const REQUIRED: bool = false;
    fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
        posted
            .text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| posted.problem(name, posted.lang.t().field_whole_number))
            })
            .transpose()
    }
    #[cfg(test)]
    fn show(&self) -> String {
        self.map(|n| n.to_string()).unwrap_or_default()
    }
}

impl Value for u32 {
    const REQUIRED: bool = true;
    fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
        Option::<u32>::read(posted, name)?
            .ok_or_else(|| posted.problem(name, posted.lang.t().op_required))
    }
    #[cfg(test)]
    fn show(&self) -> String {
        self.to_string()
    }
}

impl Value for Option<Date> {
    const REQUIRED: bool = false;
    fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
        posted
            .text(name)
            .map(|v| {
                parse_business_date(&v)
                    .map_err(|_| posted.problem(name, posted.lang.t().op_invalid_date))
            })
            .transpose()
    }
    #[cfg(test)]
    fn show(&self) -> String {
        self.map(|d| d.to_string()).unwrap_or_default()
    }
}

/// Catalog values, chosen from a list by their wire names.
macro_rules! choices {
    ($($t:ty),+) => {$(
        impl Value for Option<$t> {
            const REQUIRED: bool = false;
            fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
                posted
                    .text(name)
                    .map(|v| {
                        v.parse()
                            .map_err(|_| posted.problem(name, posted.lang.t().op_choose_from_list))
                    })
                    .transpose()
            }
            #[cfg(test)]
            fn show(&self) -> String {
                self.map(|v| v.as_str().to_owned()).unwrap_or_default()
            }
        }

        impl Value for $t {
            const REQUIRED: bool = true;
            fn read(posted: &Posted<'_>, name: &str) -> Result<Self, Shown> {
                Option::<$t>::read(posted, name)?
                    .ok_or_else(|| posted.problem(name, posted.lang.t().op_choose_from_list))
            }
            #[cfg(test)]
            fn show(&self) -> String {
                self.as_str().to_owned()
            }
        }
    )+};
}

choices!(
    ContractKind,
    DeviceType,
    Item,
    MobileUsageType,
    NetworkType,
    OptionKind
);

/// A request kind's form: its inputs, how it reads and shows, and its request.
pub trait KindForm: Sized + Into<Request> {
    /// The request's `kind`, as the API names it.
    const KIND: &'static str;
    const SPECS: &'static [Spec];
    fn read(posted: &Posted<'_>) -> Result<Self, Shown>;
    /// Each input's name and text, as the form shows them.
    #[cfg(test)]
    fn values(&self) -> Vec<(&'static str, String)>;
    /// The form showing `request`, when it is of this kind.
    #[cfg(test)]
    fn of(request: &Request) -> Option<Self>;
}

/// Declares a form: its struct, its inputs (name, label, source) in the order shown, and its
/// reading and showing, from one list of fields.
macro_rules! form {
    (
        $(#[$meta:meta])*
        $name:ident = $kind:literal {
            $($field:ident: $ty:ty => ($label:ident, $source:expr)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(pub $field: $ty),+
        }

        impl $name {
            const DECLARED: &'static [Spec] = &[$(Spec {
                name: stringify!($field),
                label: |t| t.$label,
                source: $source,
                required: <$ty as Value>::REQUIRED,
            }),+];

            fn read_fields(posted: &Posted<'_>) -> Result<Self, Shown> {
                Ok($name {
                    $($field: <$ty as Value>::read(posted, stringify!($field))?),+
                })
            }

            #[cfg(test)]
            fn show_fields(&self) -> Vec<(&'static str, String)> {
                vec![$((stringify!($field), Value::show(&self.$field))),+]
            }
        }

        impl KindForm for $name {
            const KIND: &'static str = $kind;
            const SPECS: &'static [Spec] = $name::DECLARED;
            fn read(posted: &Posted<'_>) -> Result<Self, Shown> {
                Self::read_fields(posted)
            }
            #[cfg(test)]
            fn values(&self) -> Vec<(&'static str, String)> {
                self.show_fields()
            }
            #[cfg(test)]
            fn of(request: &Request) -> Option<Self> {
                Self::from_request(request)
            }
        }
    };
}

/// The group a SIM joins or founds, when either input is given (R6.7).
fn group(group_id: Option<String>, new_group_pack_gb: Option<u32>) -> Option<GroupRequest> {
    (group_id.is_some() || new_group_pack_gb.is_some()).then_some(GroupRequest {
        group_id,
        new_group_pack_gb,
    })
}

/// The two inputs of a group a SIM joins or founds.
#[cfg(test)]
fn ungroup(group: &Option<GroupRequest>) -> (Option<String>, Option<u32>) {
    match group {
        Some(GroupRequest {
            group_id,
            new_group_pack_gb,
        }) => (group_id.clone(), *new_group_pack_gb),
        None => (None, None),
    }
}

form! {
    ApplyContract = "apply_contract" {
        contract_kind: ContractKind => (field_contract_kind, Source::ContractKinds),
        item: Option<Item> => (field_item, Source::Items),
        device_type: Option<DeviceType> => (field_device_type, Source::DeviceTypes),
        management_id: Option<String> => (field_management, Source::Managements),
        label: Option<String> => (field_site_label, Source::Text),
    }
}

impl From<ApplyContract> for Request {
    fn from(f: ApplyContract) -> Request {
        Request::ApplyContract {
            contract_kind: f.contract_kind,
            item: f.item,
            device_type: f.device_type,
            management_id: f.management_id,
            label: f.label,
        }
    }
}

#[cfg(test)]
impl ApplyContract {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ApplyContract {
                contract_kind,
                item,
                device_type,
                management_id,
                label,
            } => Some(ApplyContract {
                contract_kind: *contract_kind,
                item: *item,
                device_type: *device_type,
                management_id: management_id.clone(),
                label: label.clone(),
            }),
            _ => None,
        }
    }
}

form! {
    ChangeItem = "change_item" {
        contract_id: String => (field_contract, Source::Adapters),
        item: Item => (field_item, Source::Items),
    }
}

impl From<ChangeItem> for Request {
    fn from(f: ChangeItem) -> Request {
        Request::ChangeItem {
            contract_id: f.contract_id,
            item: f.item,
        }
    }
}

#[cfg(test)]
impl ChangeItem {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ChangeItem { contract_id, item } => Some(ChangeItem {
                contract_id: contract_id.clone(),
                item: *item,
            }),
            _ => None,
        }
    }
}

form! {
    AddOption = "add_option" {
        contract_id: String => (field_contract, Source::Adapters),
        option_kind: OptionKind => (field_option_kind, Source::OptionKinds),
        install_address: Option<String> => (field_install_address, Source::Text),
        usage_type: Option<MobileUsageType> => (field_usage_type, Source::UsageTypes),
        network_type: Option<NetworkType> => (field_network_type, Source::NetworkTypes),
        group_id: Option<String> => (field_join_group, Source::Groups),
        new_group_pack_gb: Option<u32> => (field_new_group_pack, Source::Number),
    }
}

impl From<AddOption> for Request {
    fn from(f: AddOption) -> Request {
        Request::AddOption {
            contract_id: f.contract_id,
            option_kind: f.option_kind,
            install_address: f.install_address,
            usage_type: f.usage_type,
            network_type: f.network_type,
            group: group(f.group_id, f.new_group_pack_gb),
        }
    }
}

#[cfg(test)]
impl AddOption {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::AddOption {
                contract_id,
                option_kind,
                install_address,
                usage_type,
                network_type,
                group,
            } => {
                let (group_id, new_group_pack_gb) = ungroup(group);
                Some(AddOption {
                    contract_id: contract_id.clone(),
                    option_kind: *option_kind,
                    install_address: install_address.clone(),
                    usage_type: *usage_type,
                    network_type: *network_type,
                    group_id,
                    new_group_pack_gb,
                })
            }
            _ => None,
        }
    }
}

form! {
    ChangeUsageType = "change_usage_type" {
        option_id: String => (field_option, Source::Options(Some(OptionKind::MobileAccess))),
        usage_type: MobileUsageType => (field_usage_type, Source::UsageTypes),
        group_id: Option<String> => (field_join_group, Source::Groups),
        new_group_pack_gb: Option<u32> => (field_new_group_pack, Source::Number),
    }
}

impl From<ChangeUsageType> for Request {
    fn from(f: ChangeUsageType) -> Request {
        Request::ChangeUsageType {
            option_id: f.option_id,
            usage_type: f.usage_type,
            group: group(f.group_id, f.new_group_pack_gb),
        }
    }
}

#[cfg(test)]
impl ChangeUsageType {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ChangeUsageType {
                option_id,
                usage_type,
                group,
            } => {
                let (group_id, new_group_pack_gb) = ungroup(group);
                Some(ChangeUsageType {
                    option_id: option_id.clone(),
                    usage_type: *usage_type,
                    group_id,
                    new_group_pack_gb,
                })
            }
            _ => None,
        }
    }
}

form! {
    ChangeNetworkType = "change_network_type" {
        option_id: String => (field_option, Source::Options(Some(OptionKind::MobileAccess))),
        network_type: NetworkType => (field_network_type, Source::NetworkTypes),
    }
}

impl From<ChangeNetworkType> for Request {
    fn from(f: ChangeNetworkType) -> Request {
        Request::ChangeNetworkType {
            option_id: f.option_id,
            network_type: f.network_type,
        }
    }
}

#[cfg(test)]
impl ChangeNetworkType {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ChangeNetworkType {
                option_id,
                network_type,
            } => Some(ChangeNetworkType {
                option_id: option_id.clone(),
                network_type: *network_type,
            }),
            _ => None,
        }
    }
}

form! {
    ChangePack = "change_pack" {
        group_id: String => (field_group, Source::Groups),
        pack_gb: u32 => (field_pack_gb, Source::Number),
    }
}

impl From<ChangePack> for Request {
    fn from(f: ChangePack) -> Request {
        Request::ChangePack {
            group_id: f.group_id,
            pack_gb: f.pack_gb,
        }
    }
}

#[cfg(test)]
impl ChangePack {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ChangePack { group_id, pack_gb } => Some(ChangePack {
                group_id: group_id.clone(),
                pack_gb: *pack_gb,
            }),
            _ => None,
        }
    }
}

form! {
    StopOption = "stop_option" {
        option_id: String => (field_option, Source::Options(None)),
        requested_on: Option<Date> => (field_requested_on, Source::Date),
    }
}

impl From<StopOption> for Request {
    fn from(f: StopOption) -> Request {
        Request::StopOption {
            option_id: f.option_id,
            requested_on: f.requested_on,
        }
    }
}

#[cfg(test)]
impl StopOption {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::StopOption {
                option_id,
                requested_on,
            } => Some(StopOption {
                option_id: option_id.clone(),
                requested_on: *requested_on,
            }),
            _ => None,
        }
    }
}

form! {
    StopGroup = "stop_group" {
        group_id: String => (field_group, Source::Groups),
        requested_on: Option<Date> => (field_requested_on, Source::Date),
    }
}

impl From<StopGroup> for Request {
    fn from(f: StopGroup) -> Request {
        Request::StopGroup {
            group_id: f.group_id,
            requested_on: f.requested_on,
        }
    }
}

#[cfg(test)]
impl StopGroup {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::StopGroup {
                group_id,
                requested_on,
            } => Some(StopGroup {
                group_id: group_id.clone(),
                requested_on: *requested_on,
            }),
            _ => None,
        }
    }
}

form! {
    NotifySerial = "notify_serial" {
        contract_id: String => (field_contract, Source::Adapters),
        serial: String => (field_serial, Source::Text),
    }
}

impl From<NotifySerial> for Request {
    fn from(f: NotifySerial) -> Request {
        Request::NotifySerial {
            contract_id: f.contract_id,
            serial: f.serial,
        }
    }
}

#[cfg(test)]
impl NotifySerial {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::NotifySerial {
                contract_id,
                serial,
            } => Some(NotifySerial {
                contract_id: contract_id.clone(),
                serial: serial.clone(),
            }),
            _ => None,
        }
    }
}

form! {
    ReportFailure = "report_failure" {
        contract_id: String => (field_contract, Source::Adapters),
        description: Option<String> => (field_description, Source::Text),
    }
}

impl From<ReportFailure> for Request {
    fn from(f: ReportFailure) -> Request {
        Request::ReportFailure {
            contract_id: f.contract_id,
            description: f.description,
        }
    }
}

#[cfg(test)]
impl ReportFailure {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ReportFailure {
                contract_id,
                description,
            } => Some(ReportFailure {
                contract_id: contract_id.clone(),
                description: description.clone(),
            }),
            _ => None,
        }
    }
}

form! {
    ReportLoss = "report_loss" {
        contract_id: String => (field_contract, Source::Adapters),
    }
}

impl From<ReportLoss> for Request {
    fn from(f: ReportLoss) -> Request {
        Request::ReportLoss {
            contract_id: f.contract_id,
        }
    }
}

#[cfg(test)]
impl ReportLoss {
    fn from_request(r: &Request) -> Option<Self> {
        match r {
            Request::ReportLoss { contract_id } => Some(ReportLoss {
                contract_id: contract_id.clone(),
            }),
            _ => None,
        }
    }
}

/// A form's inputs and its reader, by kind.
struct Entry {
    kind: &'static str,
    specs: &'static [Spec],
    read: fn(&Posted<'_>) -> Result<Request, Shown>,
}

const fn entry<F: KindForm>() -> Entry {
    Entry {
        kind: F::KIND,
        specs: F::SPECS,
        read: |posted| F::read(posted).map(Into::into),
    }
}

/// The request kinds made with the generic form, in the order the requests page offers them
/// (cancellation has its own page, after the quote).
const FORMS: &[Entry] = &[
    entry::<ApplyContract>(),
    entry::<ChangeItem>(),
    entry::<AddOption>(),
    entry::<ChangeUsageType>(),
    entry::<ChangeNetworkType>(),
    entry::<ChangePack>(),
    entry::<StopOption>(),
    entry::<StopGroup>(),
    entry::<NotifySerial>(),
    entry::<ReportFailure>(),
    entry::<ReportLoss>(),
];

/// The kinds made with the generic form.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    FORMS.iter().map(|f| f.kind)
}

fn find(kind: &str) -> Option<&'static Entry> {
    FORMS.iter().find(|f| f.kind == kind)
}

/// The inputs of a kind's form; `None` for a kind without one.
pub fn specs(kind: &str) -> Option<&'static [Spec]> {
    find(kind).map(|f| f.specs)
}

/// The request a posted form of `kind` describes.
pub fn read(kind: &str, posted: &Posted<'_>) -> Result<Request, Shown> {
    match find(kind) {
        Some(f) => (f.read)(posted),
        None => Err(posted.problem("kind", posted.lang.t().op_choose_from_list)),
    }
}

#[cfg(test)]
mod tests;
