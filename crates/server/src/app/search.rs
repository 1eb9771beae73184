//! Finding anything: contracts, devices, SIMs, contractors and invoices by part of what
//! identifies them, as the caller may see them.

use mpc_api_types::search::{
    ContractHit, ContractorHit, DeviceHit, Found, HitGroup, InvoiceHit, SearchKind, SearchResults,
    SimHit,
};
use mpc_domain::account::FieldError;
use mpc_domain::contract_number::ContractNumber;
use mpc_storage::AnyConnection;
use mpc_storage::search::{self, Needle, Scope, Window};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Caller;

/// Hits of each kind a search over every kind shows.
pub const HITS_PER_KIND: u32 = 5;
/// Hits a page of one kind shows unless asked otherwise.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The most hits a page may show.
pub const MAX_PER_PAGE: u32 = 100;
/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// What to look for.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a contract id, device serial, ICCID, contractor name or invoice number
    /// (`I-000123`); 1–100 characters, case-insensitive.
    pub q: String,
    /// Only this kind, a page at a time (the "more" of a search over every kind).
    pub kind: Option<SearchKind>,
    /// With `kind`: the page, from 1.
    pub page: Option<u32>,
    /// With `kind`: hits per page (1–100, default 20).
    pub per_page: Option<u32>,
}

/// A checked query: its needle, and the window each kind reads.
struct Checked {
    needle: Needle,
    kind: Option<SearchKind>,
    window: Window,
}

fn field(field: &'static str, en: String, ja: String) -> crate::error::ApiError {
    FieldError {
        field,
        message_en: en,
        message_ja: ja,
    }
    .into()
}

fn check(q: &SearchQuery) -> ApiResult<Checked> {
    let needle = Needle::new(&q.q);
    let chars = needle.text.chars().count();
    if chars == 0 || chars > MAX_QUERY_CHARS || needle.text.contains('\0') {
        return Err(field(
            "q",
            format!("q: type 1 to {MAX_QUERY_CHARS} characters to search for"),
            format!("検索語は 1〜{MAX_QUERY_CHARS} 文字で入力してください"),
        ));
    }
    let window = match q.kind {
        None => Window {
            offset: 0,
            limit: i64::from(HITS_PER_KIND),
        },
        Some(_) => {
            let (_, offset, limit) = crate::app::support::numbered(
                q.page,
                "per_page",
                q.per_page,
                DEFAULT_PER_PAGE,
                MAX_PER_PAGE,
            )?;
            Window { offset, limit }
        }
    };
    Ok(Checked {
        needle,
        kind: q.kind,
        window,
    })
}

/// Contracts, devices, SIMs, contractors and invoices matching `q.q`, each kind with its
/// total: [`HITS_PER_KIND`] of each, or with `q.kind` a page of that kind only. Operators find
/// everything; a contractor user only its own things (its contracts, devices in its custody,
/// SIMs of its options, itself, its finalized invoices), never another's.
///
/// Matching is case-insensitive: a contract or contractor by the start or end of its id, a
/// contractor by part of its name, a device by part of its serial, a SIM by part of its ICCID,
/// an invoice by its number (`I-000123` or `123`), its recipient or the start of its id.
/// `%` and `_` match themselves.
///
/// # Errors
/// 422 `invalid_field` for an empty or too long query, or a page out of bounds.
pub async fn find(state: &AppState, caller: &Caller, q: &SearchQuery) -> ApiResult<SearchResults> {
    let checked = check(q)?;
    let scope = match caller.actor.contractor_scope() {
        Some(own) => Scope::Contractor(own),
        None => Scope::Everything,
    };
    let mut conn = state.store.conn().await?;
    let conn = &mut *conn;
    let wanted = |k: SearchKind| checked.kind.is_none_or(|only| only == k);
    let (n, w) = (&checked.needle, checked.window);

    let mut results = SearchResults {
        query: n.text.clone(),
        exact: None,
        contracts: empty(),
        devices: empty(),
        sims: empty(),
        contractors: empty(),
        invoices: empty(),
    };
    if wanted(SearchKind::Contract) {
        results.contracts = HitGroup {
            total: search::count_contracts(conn, scope, n).await?,
            hits: search::contracts(conn, scope, n, w)
                .await?
                .into_iter()
                .map(|h| ContractHit {
                    id: h.id,
                    contractor_id: h.contractor_id,
                    contractor_name: h.contractor_name,
                    kind: h.kind,
                    device_type: h.device_type,
                    number: h
                        .number
                        .and_then(|n| u64::try_from(n).ok())
                        .and_then(ContractNumber::new)
                        .map(|n| n.to_string()),
                    label: h.label,
                })
                .collect(),
        };
    }
    if wanted(SearchKind::Device) {
        results.devices = HitGroup {
            total: search::count_devices(conn, scope, n).await?,
            hits: search::devices(conn, scope, n, w)
                .await?
                .into_iter()
                .map(|h| DeviceHit {
                    serial: h.serial,
                    model: h.model,
                    contractor_id: h.contractor_id,
                    contractor_name: h.contractor_name,
                })
                .collect(),
        };
    }
    if wanted(SearchKind::Sim) {
        results.sims = HitGroup {
            total: search::count_sims(conn, scope, n).await?,
            hits: search::sims(conn, scope, n, w)
                .await?
                .into_iter()
                .map(|h| SimHit {
                    iccid: h.iccid,
                    from: h.from_on,
                    until: h.until_on,
                    option_id: h.option_id,
                    contract_id: h.contract_id,
                    contract_number: None,
                    contractor_id: h.contractor_id,
                    contractor_name: h.contractor_name,
                })
                .collect(),
        };
    }
    if wanted(SearchKind::Contractor) {
        results.contractors = HitGroup {
            total: search::count_contractors(conn, scope, n).await?,
            hits: search::contractors(conn, scope, n, w)
                .await?
                .into_iter()
                .map(|h| ContractorHit {
                    id: h.id,
                    name: h.name,
                })
                .collect(),
        };
    }
    if wanted(SearchKind::Invoice) {
        results.invoices = HitGroup {
            total: search::count_invoices(conn, scope, n).await?,
            hits: search::invoices(conn, scope, n, w)
                .await?
                .into_iter()
                .map(|h| InvoiceHit {
                    number: h.serial.map(mpc_domain::invoice::number),
                    id: h.id,
                    month: h.month,
                    account_id: h.account_id,
                    recipient_name: h.recipient_name,
                    total: h.total,
                    status: h.status,
                })
                .collect(),
        };
    }
    results.exact = exact(conn, scope, &results).await?;
    // The SIM hits' contract numbers, in one lookup.
    let ids: Vec<String> = results
        .sims
        .hits
        .iter()
        .map(|h| h.contract_id.clone())
        .collect();
    if !ids.is_empty() {
        let names = mpc_storage::contracts::numbers::names_of(conn, &ids).await?;
        let number = |id: &str| names.get(id).map(|n| n.number.to_string());
        for h in &mut results.sims.hits {
            h.contract_number = number(&h.contract_id);
        }
    }
    Ok(results)
}

fn empty<T>() -> HitGroup<T> {
    HitGroup {
        hits: Vec::new(),
        total: 0,
    }
}

/// The one thing the query names whole: an invoice by its number (B3), a contract by its id,
/// a device by its serial, a SIM by its ICCID; `None` when it names none or several.
async fn exact(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    r: &SearchResults,
) -> ApiResult<Option<Found>> {
    let q = r.query.as_str();
    if let Some(serial) = mpc_domain::invoice::parse_number(q) {
        let inv = mpc_storage::billing::invoice_by_serial(conn, serial).await?;
        return Ok(inv
            .filter(|i| match scope {
                Scope::Everything => true,
                Scope::Contractor(own) => i.account_id == own && i.is_finalized(),
            })
            .map(|i| Found {
                kind: SearchKind::Invoice,
                id: i.id,
            }));
    }
    // A contract number typed in full form (`C-000123`, `c-123`) names one contract; bare
    // digits may as well be an invoice's or part of a label, so they only search.
    let number = q
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("c-"))
        .and_then(|_| q.parse::<ContractNumber>().ok())
        .map(|n| n.to_string());
    let mut named = Vec::new();
    named.extend(
        r.contracts
            .hits
            .iter()
            .filter(|h| h.id.eq_ignore_ascii_case(q) || (number.is_some() && h.number == number))
            .map(|h| (SearchKind::Contract, h.id.clone())),
    );
    named.extend(
        r.devices
            .hits
            .iter()
            .filter(|h| h.serial.eq_ignore_ascii_case(q))
            .map(|h| (SearchKind::Device, h.serial.clone())),
    );
    let mut iccids: Vec<&str> = r
        .sims
        .hits
        .iter()
        .filter(|h| h.iccid.eq_ignore_ascii_case(q))
        .map(|h| h.iccid.as_str())
        .collect();
    iccids.dedup();
    named.extend(iccids.into_iter().map(|i| (SearchKind::Sim, i.to_owned())));
    Ok(match named.as_slice() {
        [(kind, id)] => Some(Found {
            kind: *kind,
            id: id.clone(),
        }),
        _ => None,
    })
}
