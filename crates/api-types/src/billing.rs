//! The price book, billing runs, invoices, payments, outages and SLA claims.

use mpc_domain::billing::LineKind;
use mpc_domain::money::Yen;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One price: a list price (no contractor) or a contractor's agreement, from a day on (R14.1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceView {
    /// E.g. `management.monthly`, `adapter.monthly.remote_access.SA-W2L`,
    /// `mobile_access.monthly.fixed_ip.plan_30gb`, `fee.loss.SEIL/X4`.
    #[schema(example = "adapter.monthly.internet_gateway.SEIL/X4")]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_id: Option<String>,
    pub effective_from: String,
    /// Yen, tax excluded.
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PriceList {
    pub prices: Vec<PriceView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPrices {
    pub prices: Vec<PriceView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerView {
    pub name: String,
    /// `T` and 13 digits (B3).
    #[schema(example = "T1234567890123")]
    pub registration_number: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact: String,
    /// The phone printed on invoices (the contact line when empty).
    #[serde(default)]
    #[schema(example = "03-1234-5678")]
    pub phone: String,
    /// Where to pay (振込先), printed on invoices: bank, branch, account type and number,
    /// holder.
    #[serde(default)]
    #[schema(example = "みずほ銀行 大手町支店 普通 1234567 カ）テストツウシン")]
    pub bank_account: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// `YYYY-MM`.
    #[schema(example = "2026-10")]
    pub month: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunSummaryView {
    pub month: String,
    pub contractors: usize,
    pub contracts: usize,
    pub invoices: usize,
    pub lines: usize,
    pub subtotal: Yen,
    pub tax: Yen,
    pub total: Yen,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceSummary {
    pub id: String,
    /// `I-000123`, given when the month is finalized (B3); `null` for a draft.
    #[schema(example = "I-000123")]
    pub number: Option<String>,
    pub month: String,
    /// The billing account (B1).
    pub account_id: String,
    pub recipient_name: String,
    pub issue_date: String,
    pub due_date: String,
    pub subtotal: Yen,
    pub tax: Yen,
    pub total: Yen,
    /// `draft`, `issued` (nothing paid yet), `partly_paid`, `paid`, `overdue` (a balance left
    /// after the due date) or `defaulted` (B5).
    pub status: String,
    pub paid: Yen,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceList {
    pub invoices: Vec<InvoiceSummary>,
}

/// A numbered page of invoices and how many all pages hold.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoicePage {
    pub invoices: Vec<InvoiceSummary>,
    /// How many invoices the filters find, on every page.
    pub total: i64,
    /// This page, from 1.
    pub page: u32,
    /// The next page, when there is one.
    pub next_page: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuerOnInvoice {
    pub name: String,
    pub registration_number: String,
    pub address: String,
    pub phone: String,
    /// Where to pay (振込先).
    pub bank_account: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateTotalView {
    pub rate_percent: i64,
    pub taxable: Yen,
    pub tax: Yen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineView {
    /// The contractor holding the contract (differs from the account under R6.3).
    pub contractor_id: String,
    pub contract_id: String,
    /// The number of the line's contract, as the invoice prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "C-000123")]
    pub contract_number: Option<mpc_domain::contract_number::ContractNumber>,
    pub subject_id: String,
    pub kind: LineKind,
    /// The rule the line comes from, e.g. `D7`, `R9.11`, `R15.1`, `R16.2`, `R6.4`.
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_key: Option<String>,
    /// What the line is, in Japanese, as the invoice prints it.
    pub description: String,
    /// What the line is, in English (the invoice itself stays Japanese). Empty in decisions
    /// recorded before lines had English wording.
    #[serde(default)]
    pub description_en: String,
    pub period_from: String,
    pub period_to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_in_month: Option<i64>,
    pub unit_amount: Yen,
    pub amount: Yen,
    /// The invoice a correction or moved amount concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<String>,
    /// The months of a line that sums several (an early-termination charge, R15.1), adding
    /// up to its amount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<LinePartView>,
}

/// One month of a line that sums several (R15.1, D7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinePartView {
    pub period_from: String,
    pub period_to: String,
    pub days: i64,
    pub days_in_month: i64,
    /// The monthly fee in force over the part.
    pub unit_amount: Yen,
    pub amount: Yen,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    pub paid_on: String,
    pub amount: Yen,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A qualified invoice (適格請求書, B3) with its lines.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceView {
    #[serde(flatten)]
    pub summary: InvoiceSummary,
    pub issuer: IssuerOnInvoice,
    pub totals_by_rate: Vec<RateTotalView>,
    pub lines: Vec<LineView>,
    pub payments: Vec<PaymentView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPayment {
    /// Defaults to today in Japan.
    pub paid_on: Option<String>,
    pub amount: i64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MovedAmount {
    pub contractor_id: String,
    pub amount: Yen,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DefaultResult {
    /// What moved to the management contractors' next invoices (R6.4).
    pub moved: Vec<MovedAmount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOutage {
    /// When the operator learned of the outage (RFC 3339): the 24 hours run from here.
    pub learned_at: String,
    pub restored_at: String,
    pub operator_caused: bool,
    /// The service-adapter contracts made totally unusable, by id or number (`C-000123`)…
    #[serde(default)]
    pub contract_ids: Vec<String>,
    /// … or every adapter under this management (its id or number).
    pub management_id: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutageView {
    pub id: String,
    /// The number people quote (`OUT-000123`); routes taking the id take it too.
    pub number: String,
    pub learned_at: String,
    pub restored_at: String,
    pub operator_caused: bool,
    /// Full 24 hours of unusable time (R16.2).
    pub full_days: i64,
    pub qualifies: bool,
    /// First and last day to claim (R16.3, D5).
    pub claimable_from: String,
    pub claim_deadline: String,
    /// The service-adapter contracts it made unusable; a contractor is shown its own.
    #[serde(default)]
    pub contract_ids: Vec<String>,
    /// Their numbers (`C-000123`), in the same order.
    #[serde(default)]
    pub contract_numbers: Vec<String>,
    /// The management contract under which every adapter was unusable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_number: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutageList {
    pub outages: Vec<OutageView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitClaim {
    /// The outage's id or number (`OUT-000123`).
    pub outage_id: String,
    /// Defaults to today in Japan.
    pub claimed_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimView {
    pub id: String,
    /// The number people quote (`CLM-000123`); routes taking the id take it too.
    pub number: String,
    pub outage_id: String,
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    pub contractor_id: String,
    pub claimed_on: String,
    /// `pending`, `approved` or `refused`; an approved credit is on the invoice of the month
    /// of approval.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_on: Option<String>,
}

/// An operator's decision on an SLA claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideClaim {
    /// The day of the decision; today in Japan when omitted. An approved credit is on the
    /// invoice of this day's month (R16.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// Why (up to 500 characters), kept in the journal; the console asks for it on refusals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimList {
    pub claims: Vec<ClaimView>,
}

/// An invoice as an A4 PDF document (`application/pdf`), binary.
#[derive(Debug, Clone, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfDocument(pub Vec<u8>);
