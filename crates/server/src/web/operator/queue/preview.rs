//! `/console/queue/requests/{id}/preview`: what accepting a pending request would do on the
//! date (and with the choices) of the acceptance form, swapped in by htmx as the form changes.
//! The request page shows the same section for its default date before acceptance, and after
//! acceptance what was done.

use axum::extract::{Path, Query, State};
use mpc_api_types::contracts::AcceptedDecision;
use mpc_domain::book::Effect;
use mpc_domain::ending::Termination;
use mpc_domain::price::PriceKey;
use serde::Deserialize;

use super::super::{contractor_names, only_operators, prices::price_label, refusal};
use crate::AppState;
use crate::app::requests::{self, PreviewQuery};
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Namer, Session, Shown, WebResult, contract_name, format, render, short};

/// The acceptance form's choices, as htmx sends them (without its token and confirmation).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PreviewForm {
    pub on: String,
    pub termination: String,
    pub replacement_serial: String,
    pub replaced_on: String,
    pub contractor_caused: String,
}

/// The termination chosen on the acceptance form; `Err` for a value not offered.
pub(super) fn termination(value: &str) -> Result<Option<Termination>, ()> {
    Ok(match value {
        "" => None,
        "notice" => Some(Termination::Notice),
        "general_terms_art28_para2" => Some(Termination::GeneralTermsArt28Para2),
        "general_terms_art28_para3" => Some(Termination::GeneralTermsArt28Para3),
        _ => return Err(()),
    })
}

/// One thing a decision does, in the page's language.
pub struct EffectRow {
    pub what: &'static str,
    /// The contract, option, group or device concerned (an id's last characters).
    pub subject: String,
    pub day: String,
    /// A device's return deadline (R10.3).
    pub return_due: Option<String>,
}

/// One line a decision adds to the bills.
pub struct ChargeRow {
    pub what: String,
    pub rule: String,
    pub period: String,
    pub days: String,
    pub amount: String,
}

/// A contractor a decision leaves without what R6.1 requires (R6.8).
pub struct ImpactRow {
    pub contractor: String,
    pub from: String,
    pub unmet: Vec<String>,
    pub contracts: Vec<String>,
}

/// A decision as the request page shows it: before acceptance for a date, or as done.
pub struct Outcome {
    pub done: bool,
    pub on: String,
    /// The last day of the contract the request ends (D6), if it ends one.
    pub end_on: Option<String>,
    pub effects: Vec<EffectRow>,
    pub charges: Vec<ChargeRow>,
    pub total: Option<String>,
    pub missing: Vec<String>,
    pub impacts: Vec<ImpactRow>,
    /// Why accepting on that date would be refused, with the rule.
    pub problem: Option<Shown>,
}

/// The contracts and options `decision` names, to be looked up in one go.
fn named_ids(decision: &AcceptedDecision) -> (Vec<String>, Vec<String>) {
    let (mut contracts, mut options) = (Vec::new(), Vec::new());
    for e in &decision.effects {
        match e {
            Effect::BillingStartSet { contract_id, .. }
            | Effect::ItemChanged { contract_id, .. }
            | Effect::ContractEnds { contract_id, .. } => contracts.push(contract_id.clone()),
            Effect::Charge(c) => contracts.push(c.contract_id.clone()),
            Effect::OptionCreated(o) => contracts.push(o.contract_id.clone()),
            Effect::UsageTypeChanged { option_id, .. }
            | Effect::NetworkTypeChanged { option_id, .. }
            | Effect::OptionEnds { option_id, .. }
            | Effect::MemberJoined { option_id, .. }
            | Effect::MemberLeft { option_id, .. } => options.push(option_id.clone()),
            _ => {}
        }
    }
    for i in &decision.eligibility_impact {
        contracts.extend(i.contracts.iter().cloned());
    }
    (contracts, options)
}

/// The names `decision` shows, looked up for `session`'s user.
pub(super) async fn namer(
    state: &AppState,
    session: &Session,
    decision: &AcceptedDecision,
) -> WebResult<Namer> {
    let (contracts, options) = named_ids(decision);
    Namer::load(state, session, &contracts, &options).await
}

fn effect_row(lang: Lang, namer: &Namer, e: &Effect) -> Option<EffectRow> {
    let t = lang.t();
    let day = |d: &jiff::civil::Date| format::date_text(lang, &d.to_string());
    let row = |what, subject: String, on: String| EffectRow {
        what,
        subject,
        day: on,
        return_due: None,
    };
    let contract = |id: &str| namer.contract(id);
    let option = |id: &str| namer.option(id);
    let serial = |s: &str| s.to_owned();
    Some(match e {
        // A contract not yet written has no number: its label, if any, names it.
        Effect::ContractCreated(c) => row(
            t.pv_contract_created,
            c.number.map_or_else(
                || c.label.clone(),
                |_| contract_name(c.number, &c.label, &c.id),
            ),
            day(&c.accepted_on),
        ),
        Effect::BillingStartSet { contract_id, on } => {
            row(t.pv_billing_start_set, contract(contract_id), day(on))
        }
        Effect::ItemChanged {
            contract_id, from, ..
        } => row(t.pv_item_changed, contract(contract_id), day(from)),
        Effect::ContractEnds {
            contract_id,
            ending,
        } => row(
            t.effect_contract_ends,
            contract(contract_id),
            day(&ending.on),
        ),
        Effect::OptionCreated(o) => row(
            t.pv_option_created,
            namer.option_of(o.kind, &o.contract_id),
            day(&o.accepted_on),
        ),
        Effect::UsageTypeChanged {
            option_id, from, ..
        } => row(t.pv_usage_type_changed, option(option_id), day(from)),
        Effect::NetworkTypeChanged {
            option_id, from, ..
        } => row(t.pv_network_type_changed, option(option_id), day(from)),
        Effect::OptionEnds { option_id, ending } => {
            row(t.effect_option_ends, option(option_id), day(&ending.on))
        }
        Effect::GroupCreated(g) => row(t.pv_group_created, short(&g.id), day(&g.accepted_on)),
        Effect::PackChanged { group_id, from, .. } => {
            row(t.pv_pack_changed, short(group_id), day(from))
        }
        Effect::MemberJoined {
            option_id, from, ..
        } => row(t.pv_member_joined, option(option_id), day(from)),
        Effect::MemberLeft {
            option_id,
            last_day,
            ..
        } => row(t.effect_member_left, option(option_id), day(last_day)),
        Effect::GroupEnds { group_id, ending } => {
            row(t.effect_group_ends, short(group_id), day(&ending.on))
        }
        Effect::Charge(c) => row(
            t.pv_one_time_fee,
            contract(&c.contract_id),
            day(&c.occurred_on),
        ),
        Effect::DeviceAssigned {
            serial: s, from, ..
        } => row(t.pv_device_assigned, serial(s), day(from)),
        Effect::DeviceReleased {
            serial: s,
            last_day,
            return_due,
        } => EffectRow {
            return_due: return_due.as_ref().map(day),
            ..row(t.effect_device_released, serial(s), day(last_day))
        },
        Effect::DeviceReturned { serial: s, on } => row(t.pv_device_returned, serial(s), day(on)),
        Effect::DeviceLost { serial: s, on } => row(t.pv_device_lost, serial(s), day(on)),
        Effect::DeviceFound { serial: s, on } => row(t.pv_device_found, serial(s), day(on)),
        Effect::NotificationWithdrawn { serial: s, .. } => EffectRow {
            what: t.pv_notification_withdrawn,
            subject: serial(s),
            day: String::new(),
            return_due: None,
        },
    })
}

/// What a charge line is for, in the page's language: its kind and what it prices.
fn charge_what(lang: Lang, kind: mpc_domain::billing::LineKind, key: Option<&str>) -> String {
    use mpc_domain::billing::LineKind;
    let t = lang.t();
    let kind = match kind {
        LineKind::InitialFee => t.pv_line_initial,
        LineKind::MonthlyFee => t.pv_line_monthly,
        LineKind::OneTimeFee => t.pv_line_one_time,
        LineKind::EarlyTermination => t.pv_line_early_termination,
        LineKind::SlaCredit => t.pv_line_credit,
        LineKind::MovedUnpaid | LineKind::Adjustment => t.pv_line_other,
    };
    match key.and_then(|k| k.parse::<PriceKey>().ok()) {
        Some(k) => format!("{kind} — {}", price_label(lang, k)),
        None => kind.to_owned(),
    }
}

impl Outcome {
    /// `decision` as the page shows it; `contract_id` is the contract the request ends.
    pub(super) fn of(
        lang: Lang,
        on: &str,
        decision: &AcceptedDecision,
        names: &std::collections::HashMap<String, String>,
        namer: &Namer,
        done: bool,
    ) -> Outcome {
        let end_on = decision.effects.iter().find_map(|e| match e {
            Effect::ContractEnds { ending, .. } => {
                Some(format::date_text(lang, &ending.on.to_string()))
            }
            _ => None,
        });
        let charges = decision.charges.as_deref().unwrap_or_default();
        Outcome {
            done,
            on: format::date_text(lang, on),
            end_on,
            effects: decision
                .effects
                .iter()
                .filter_map(|e| effect_row(lang, namer, e))
                .collect(),
            charges: charges
                .iter()
                .map(|l| ChargeRow {
                    what: charge_what(lang, l.kind, l.price_key.as_deref()),
                    rule: l.rule.clone(),
                    period: if l.period_from == l.period_to {
                        format::date_text(lang, &l.period_from)
                    } else {
                        format!(
                            "{} – {}",
                            format::date_text(lang, &l.period_from),
                            format::date_text(lang, &l.period_to)
                        )
                    },
                    days: match (l.days, l.days_in_month) {
                        (Some(d), Some(n)) => format!("{d}/{n}"),
                        _ => String::new(),
                    },
                    amount: format::yen(lang, l.amount),
                })
                .collect(),
            total: decision
                .charges
                .as_ref()
                .map(|c| format::yen(lang, c.iter().map(|l| l.amount).sum())),
            missing: decision.missing_prices.clone(),
            impacts: decision
                .eligibility_impact
                .iter()
                .map(|i| ImpactRow {
                    contractor: names
                        .get(&i.contractor_id)
                        .cloned()
                        .unwrap_or_else(|| i.contractor_id.clone()),
                    from: format::date_text(lang, &i.from),
                    unmet: i
                        .newly_unmet
                        .iter()
                        .map(|u| {
                            format!("{} ({})", lang.pick(&u.message_ja, &u.message_en), u.rule)
                        })
                        .collect(),
                    contracts: i.contracts.iter().map(|c| namer.contract(c)).collect(),
                })
                .collect(),
            problem: None,
        }
    }

    fn refused(lang: Lang, on: &str, problem: Shown) -> Outcome {
        Outcome {
            done: false,
            on: format::date_text(lang, on),
            end_on: None,
            effects: Vec::new(),
            charges: Vec::new(),
            total: None,
            missing: Vec::new(),
            impacts: Vec::new(),
            problem: Some(problem),
        }
    }
}

/// The preview of accepting request `id` with `form`'s choices, or why it would be refused.
pub(super) async fn outcome(
    state: &AppState,
    session: &Session,
    id: &str,
    form: &PreviewForm,
) -> WebResult<Outcome> {
    let lang = session.lang;
    let Ok(termination) = termination(&form.termination) else {
        let t = lang.t();
        let mut shown = Shown::message(422, "invalid_field", t.op_check_fields);
        shown
            .fields
            .push(("termination".into(), t.op_choose_from_list.into()));
        return Ok(Outcome::refused(lang, &form.on, shown));
    };
    let q = PreviewQuery {
        on: Some(form.on.clone()),
        termination,
        replacement_serial: Some(form.replacement_serial.clone()),
        replaced_on: Some(form.replaced_on.clone()),
        contractor_caused: Some(form.contractor_caused == "yes"),
    };
    match requests::preview(state, &session.caller(), id, &q).await {
        Ok(p) => {
            let ids = p
                .decision
                .eligibility_impact
                .iter()
                .map(|i| i.contractor_id.clone())
                .collect();
            let names = contractor_names(state, session, ids).await?;
            let namer = namer(state, session, &p.decision).await?;
            Ok(Outcome::of(lang, &p.on, &p.decision, &names, &namer, false))
        }
        Err(e) => Ok(Outcome::refused(lang, &form.on, refusal(lang, e)?)),
    }
}

#[derive(askama::Template)]
#[template(path = "web/operator/queue/preview.html")]
struct PreviewFragment {
    c: crate::web::Chrome,
    outcome: Outcome,
}

/// The preview section alone, for htmx to swap in as the acceptance form changes.
pub async fn preview_fragment(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(form): Query<PreviewForm>,
) -> WebResult {
    only_operators(&session)?;
    let outcome = outcome(&state, &session, &id, &form).await?;
    Ok(render(PreviewFragment {
        c: session.chrome(session.t().pv_heading, Section::Queue),
        outcome,
    }))
}
