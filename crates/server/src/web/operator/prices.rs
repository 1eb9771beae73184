//! `/console/prices`: the price book (R14.1) — every key with the list price in force today,
//! editable in one table and saved from a chosen day on; agreements of contractors; CSV export
//! and import.

use axum::extract::{Query, State};
use jiff::civil::Date;
use mpc_api_types::billing::{PriceView, SetPrices};
use mpc_domain::catalog::{ContractKind, OptionKind};
use mpc_domain::money::Yen;
use mpc_domain::price::PriceKey;
use serde::Deserialize;

use super::form::{OperatorForm, csrf_field};
use super::{
    Sort, contractor_names, date_field, field_problem, href, only_operators, refusal, render_form,
};
use crate::AppState;
use crate::api::csv_download;
use crate::app::support::today;
use crate::app::{Input, prices};
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, see_other};

csrf_field!(ImportForm, SaveForm);

/// What a key prices, in the page's language; in Japanese exactly as 別紙1 names it
/// ([`PriceKey::label_ja`], which invoices print).
pub fn price_label(lang: Lang, key: PriceKey) -> String {
    let t = lang.t();
    let kind = |k: ContractKind| lang.pick(k.label_ja(), k.label_en());
    let option = |o: OptionKind| lang.pick(o.label_ja(), o.label_en());
    let paren = |inner: String| format!("{}{inner}{}", t.op_paren_open, t.op_paren_close);
    let pair = |a: &str, b: &str| paren(format!("{a} / {b}"));
    match key {
        PriceKey::ManagementInitial => {
            format!("{} {}", kind(ContractKind::Management), t.op_fee_initial)
        }
        PriceKey::ManagementMonthly => {
            format!("{} {}", kind(ContractKind::Management), t.op_fee_monthly)
        }
        PriceKey::AdapterInitial(i, d) | PriceKey::AdapterMonthly(i, d) => format!(
            "{} {}{}",
            kind(ContractKind::ServiceAdapter),
            if matches!(key, PriceKey::AdapterInitial(..)) {
                t.op_fee_initial
            } else {
                t.op_fee_monthly
            },
            pair(
                lang.pick(i.label_ja(), i.label_en()),
                lang.pick(d.label_ja(), d.label_en())
            )
        ),
        PriceKey::SendbackInitial => {
            format!("{} {}", option(OptionKind::UltraSendback), t.op_fee_initial)
        }
        PriceKey::SendbackMonthly => {
            format!("{} {}", option(OptionKind::UltraSendback), t.op_fee_monthly)
        }
        PriceKey::MobileInitial(n) => format!(
            "{} {}{}",
            option(OptionKind::MobileAccess),
            t.op_fee_initial,
            paren(lang.pick(n.label_ja(), n.label_en()).to_owned())
        ),
        PriceKey::MobileMonthly(n, None) => format!(
            "{} {}{}",
            option(OptionKind::MobileAccess),
            t.op_fee_monthly,
            paren(lang.pick(n.label_ja(), n.label_en()).to_owned())
        ),
        PriceKey::MobileMonthly(n, Some(u)) => format!(
            "{} {}{}",
            option(OptionKind::MobileAccess),
            t.op_fee_monthly,
            pair(
                lang.pick(n.label_ja(), n.label_en()),
                lang.pick(u.label_ja(), u.label_en())
            )
        ),
        PriceKey::GroupInitial => {
            format!(
                "{} {}",
                option(OptionKind::PacketShareGroup),
                t.op_fee_initial
            )
        }
        PriceKey::GroupMonthlyBase => {
            format!(
                "{} {}",
                option(OptionKind::PacketShareGroup),
                t.op_fee_monthly
            )
        }
        PriceKey::GroupMonthlyPerGb => format!(
            "{} {}",
            option(OptionKind::PacketShareGroup),
            t.op_fee_pack_per_gb
        ),
        PriceKey::ItemChangeFee => t.op_fee_item_change.to_owned(),
        PriceKey::NetworkTypeToFixedFee => t.op_fee_to_fixed.to_owned(),
        PriceKey::ContractorCausedFailureFee => t.op_fee_failure.to_owned(),
        PriceKey::LossFee(d) => format!(
            "{}{}",
            t.op_fee_loss,
            paren(lang.pick(d.label_ja(), d.label_en()).to_owned())
        ),
    }
}

/// The product a key prices, the price book's grouping: management, the service adapter of
/// each item (R2.1), then each option (R9.1) and the one-time fees (別紙1 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Management,
    Adapter(mpc_domain::catalog::Item),
    Sendback,
    Mobile,
    PacketShare,
    OneTime,
}

impl Product {
    fn of(key: PriceKey) -> Product {
        match key {
            PriceKey::ManagementInitial | PriceKey::ManagementMonthly => Product::Management,
            PriceKey::AdapterInitial(i, _) | PriceKey::AdapterMonthly(i, _) => Product::Adapter(i),
            PriceKey::SendbackInitial | PriceKey::SendbackMonthly => Product::Sendback,
            PriceKey::MobileInitial(_) | PriceKey::MobileMonthly(..) => Product::Mobile,
            PriceKey::GroupInitial | PriceKey::GroupMonthlyBase | PriceKey::GroupMonthlyPerGb => {
                Product::PacketShare
            }
            PriceKey::ItemChangeFee
            | PriceKey::NetworkTypeToFixedFee
            | PriceKey::ContractorCausedFailureFee
            | PriceKey::LossFee(_) => Product::OneTime,
        }
    }

    /// The product's name as the regulation gives it, in the page's language.
    fn heading(self, lang: Lang) -> String {
        let t = lang.t();
        let kind = |k: ContractKind| lang.pick(k.label_ja(), k.label_en()).to_owned();
        let option = |o: OptionKind| lang.pick(o.label_ja(), o.label_en()).to_owned();
        match self {
            Product::Management => kind(ContractKind::Management),
            Product::Adapter(i) => format!(
                "{}{}{}{}",
                kind(ContractKind::ServiceAdapter),
                t.op_paren_open,
                lang.pick(i.label_ja(), i.label_en()),
                t.op_paren_close
            ),
            Product::Sendback => option(OptionKind::UltraSendback),
            Product::Mobile => option(OptionKind::MobileAccess),
            Product::PacketShare => option(OptionKind::PacketShareGroup),
            Product::OneTime => t.money_group_one_time.to_owned(),
        }
    }
}

/// Every price key grouped by the product it prices, in 別紙1's order, each group under the
/// product's name in the page's language.
pub(super) fn price_groups(lang: Lang) -> Vec<(String, Vec<PriceKey>)> {
    let mut groups: Vec<(Product, Vec<PriceKey>)> = Vec::new();
    for key in PriceKey::all() {
        let product = Product::of(key);
        match groups.iter_mut().find(|(p, _)| *p == product) {
            Some((_, keys)) => keys.push(key),
            None => groups.push((product, vec![key])),
        }
    }
    groups
        .into_iter()
        .map(|(p, keys)| (p.heading(lang), keys))
        .collect()
}

/// The form field of a key's amount (and where its problems show).
fn field(key: &str) -> String {
    format!("price:{key}")
}

/// The list price (no contractor) of `key` in force on `on`, and the day it took effect.
fn in_force<'a>(prices: &'a [PriceView], key: &str, on: Date) -> Option<&'a PriceView> {
    let on = on.to_string();
    prices
        .iter()
        .filter(|p| p.key == key && p.contractor_id.is_none() && p.effective_from <= on)
        .max_by(|a, b| a.effective_from.cmp(&b.effective_from))
}

/// The next list price of `key` after `on`.
fn scheduled<'a>(prices: &'a [PriceView], key: &str, on: Date) -> Option<&'a PriceView> {
    let on = on.to_string();
    prices
        .iter()
        .filter(|p| p.key == key && p.contractor_id.is_none() && p.effective_from > on)
        .min_by(|a, b| a.effective_from.cmp(&b.effective_from))
}

/// The keys of one product, with their rows.
pub struct PriceGroup {
    pub heading: String,
    pub rows: Vec<PriceRow>,
}

pub struct PriceRow {
    /// The id of the amount input.
    pub id: String,
    pub key: String,
    /// The key's place in 別紙1's order.
    order: i64,
    pub field: String,
    pub label: String,
    pub current: String,
    current_amount: i64,
    pub since: String,
    pub scheduled: String,
    /// What the amount input holds.
    pub value: String,
}

pub struct AgreementRow {
    pub contractor_id: String,
    pub contractor: String,
    pub key: String,
    pub label: String,
    pub from: String,
    pub amount: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    sort: String,
    saved: Option<usize>,
    imported: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SaveForm {
    csrf: String,
    effective_from: String,
    key: Vec<String>,
    amount: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ImportForm {
    csrf: String,
    csv: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/prices.html")]
struct PricesPage {
    c: Chrome,
    notice: Option<String>,
    groups: Vec<PriceGroup>,
    sort: Sort,
    effective_from: String,
    problem: Option<Shown>,
    agreements: Vec<AgreementRow>,
    csv: String,
    import_problem: Option<Shown>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    only_operators(&session)?;
    let t = session.t();
    let notice = match (q.saved, q.imported) {
        (Some(0), _) => Some(t.op_prices_unchanged.to_owned()),
        (Some(n), _) => Some(format!("{}{n}", t.op_prices_saved)),
        (_, Some(n)) => Some(format!("{}{n}", t.op_prices_imported)),
        _ => None,
    };
    prices_page(&state, &session, &q.sort, notice, None, None).await
}

async fn all_prices(state: &AppState, session: &Session) -> WebResult<Vec<PriceView>> {
    let prices = prices::list(state, &session.caller(), prices::Part::All).await?;
    Ok(prices.into_iter().map(prices::view).collect())
}

async fn prices_page(
    state: &AppState,
    session: &Session,
    sort: &str,
    notice: Option<String>,
    save: Option<(SaveForm, Shown)>,
    import: Option<(String, Shown)>,
) -> WebResult {
    let lang = session.lang;
    let prices = all_prices(state, session).await?;
    let today = today();
    let (entered, problem) = match save {
        Some((form, shown)) => (Some(form), Some(shown)),
        None => (None, None),
    };
    let order_of: Vec<PriceKey> = PriceKey::all();
    let sort = Sort::new(
        "sort",
        Some(sort),
        &["key", "label", "amount"],
        "/console/prices".into(),
    );
    let mut n = 0;
    let mut groups = Vec::new();
    for (heading, keys) in price_groups(lang) {
        let mut rows: Vec<PriceRow> = keys
            .into_iter()
            .map(|k| {
                let order = order_of.iter().position(|x| *x == k).unwrap_or_default();
                let key = k.to_string();
                let current = in_force(&prices, &key, today);
                let next = scheduled(&prices, &key, today);
                let value = entered
                    .as_ref()
                    .and_then(|f| {
                        f.key
                            .iter()
                            .position(|x| *x == key)
                            .and_then(|i| f.amount.get(i).cloned())
                    })
                    .or_else(|| current.map(|p| p.amount.to_string()))
                    .unwrap_or_default();
                PriceRow {
                    id: String::new(),
                    order: order as i64,
                    field: field(&key),
                    label: price_label(lang, k),
                    current: current.map(|p| lang.yen(Yen(p.amount))).unwrap_or_default(),
                    current_amount: current.map_or(-1, |p| p.amount),
                    since: current
                        .map(|p| lang.date(&p.effective_from))
                        .unwrap_or_default(),
                    scheduled: next
                        .map(|p| {
                            let t = lang.t();
                            format!(
                                "{}{}{}{}",
                                lang.yen(Yen(p.amount)),
                                t.op_paren_open,
                                t.op_from_date
                                    .replace("{date}", &lang.date(&p.effective_from)),
                                t.op_paren_close
                            )
                        })
                        .unwrap_or_default(),
                    value,
                    key,
                }
            })
            .collect();
        // Each product's keys sort among themselves; the products keep 別紙1's order.
        sort.apply(&mut rows, |r, key| match key {
            "label" => (0, r.label.clone()),
            "amount" => (r.current_amount, String::new()),
            _ => (r.order, String::new()),
        });
        for row in rows.iter_mut() {
            n += 1;
            row.id = format!("amount-{n}");
        }
        groups.push(PriceGroup { heading, rows });
    }

    let agreements: Vec<&PriceView> = prices
        .iter()
        .filter(|p| p.contractor_id.is_some())
        .collect();
    let names = contractor_names(
        state,
        session,
        agreements
            .iter()
            .filter_map(|p| p.contractor_id.clone())
            .collect(),
    )
    .await?;
    let mut agreements: Vec<AgreementRow> = agreements
        .into_iter()
        .map(|p| {
            let id = p.contractor_id.clone().unwrap_or_default();
            AgreementRow {
                contractor: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                contractor_id: id,
                label: p
                    .key
                    .parse::<PriceKey>()
                    .map(|k| price_label(lang, k))
                    .unwrap_or_default(),
                key: p.key.clone(),
                from: lang.date(&p.effective_from),
                amount: lang.yen(Yen(p.amount)),
            }
        })
        .collect();
    agreements.sort_by(|a, b| (&a.contractor, &a.key).cmp(&(&b.contractor, &b.key)));

    let failed = problem.is_some() || import.is_some();
    let (csv, import_problem) = match import {
        Some((csv, shown)) => (csv, Some(shown)),
        None => (String::new(), None),
    };
    Ok(render_form(
        PricesPage {
            c: session.chrome(session.t().nav_prices, Section::Prices),
            notice,
            groups,
            sort,
            effective_from: entered
                .map(|f| f.effective_from)
                .unwrap_or_else(|| today.to_string()),
            problem,
            agreements,
            csv,
            import_problem,
        },
        failed,
    ))
}

/// Saves the amounts that differ from the list price in force on the chosen day, through the
/// price book's use case (one journal entry for all of them).
pub async fn save(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<SaveForm>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let from = match date_field(lang, "effective_from", &form.effective_from) {
        Ok(Some(d)) => d,
        Ok(None) => {
            let problem = field_problem(lang, "effective_from", t.op_required);
            return prices_page(&state, &session, "", None, Some((form, problem)), None).await;
        }
        Err(problem) => {
            return prices_page(&state, &session, "", None, Some((form, problem)), None).await;
        }
    };
    let prices = all_prices(&state, &session).await?;
    let mut changed = Vec::new();
    let mut problem: Option<Shown> = None;
    for (key, amount) in form.key.iter().zip(&form.amount) {
        let amount = amount.trim().replace(',', "");
        if amount.is_empty() {
            continue;
        }
        let Ok(yen) = amount.parse::<i64>() else {
            let p = problem.get_or_insert_with(|| field_problem(lang, "", t.op_check_fields));
            p.fields.push((field(key), t.op_whole_yen.to_owned()));
            continue;
        };
        if in_force(&prices, key, from).map(|p| p.amount) != Some(yen) {
            changed.push((key.clone(), yen));
        }
    }
    if let Some(mut problem) = problem {
        problem.fields.retain(|(f, _)| !f.is_empty());
        return prices_page(&state, &session, "", None, Some((form, problem)), None).await;
    }
    if changed.is_empty() {
        return Ok(see_other("/console/prices?saved=0"));
    }
    let new = SetPrices {
        prices: changed
            .iter()
            .map(|(key, yen)| PriceView {
                key: key.clone(),
                contractor_id: None,
                effective_from: from.to_string(),
                amount: *yen,
            })
            .collect(),
    };
    match prices::set(&state, &session.caller(), Input::Value(new)).await {
        Ok(_) => Ok(see_other(&href(
            "/console/prices",
            &[("saved", &changed.len().to_string())],
        ))),
        Err(e) => {
            let mut problem = refusal(lang, e)?;
            // The API names rows as `prices[i].amount`; show each next to its key.
            for (name, _) in problem.fields.iter_mut() {
                let row = name
                    .strip_prefix("prices[")
                    .and_then(|r| r.split(']').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| changed.get(i));
                if let Some((key, _)) = row {
                    *name = field(key);
                }
            }
            prices_page(&state, &session, "", None, Some((form, problem)), None).await
        }
    }
}

/// `/console/prices.csv`: the price book's CSV, as a download.
pub async fn csv(State(state): State<AppState>, session: Session) -> WebResult {
    only_operators(&session)?;
    let csv = prices::csv(&state, &session.caller()).await?;
    Ok(csv_download(csv, "prices.csv"))
}

/// Imports prices from CSV text (all or nothing, each bad row named by the API).
pub async fn import(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<ImportForm>,
) -> WebResult {
    let lang = session.lang;
    let problem = if form.csv.trim().is_empty() {
        field_problem(lang, "csv", session.t().op_required)
    } else {
        match prices::import(&state, &session.caller(), form.csv.as_bytes()).await {
            Ok(imported) => {
                return Ok(see_other(&href(
                    "/console/prices",
                    &[("imported", &imported.len().to_string())],
                )));
            }
            Err(e) => refusal(lang, e)?,
        }
    };
    prices_page(&state, &session, "", None, None, Some((form.csv, problem))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_labels_are_the_invoice_labels_and_english_has_no_japanese() {
        for key in PriceKey::all() {
            assert_eq!(price_label(Lang::Ja, key), key.label_ja(), "{key}");
            let en = price_label(Lang::En, key);
            assert!(
                !en.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c)
                    || ('\u{ff00}'..='\u{ffef}').contains(&c)),
                "{en}"
            );
        }
    }
}
