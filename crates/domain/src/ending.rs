//! Ends: cancellation of contracts (R13), stops of options and groups (R9.10), their cascades
//! (R9.7, R13.2, R13.3), the return of devices (R10.3), and the early-termination period (R15).

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::book::{Book, Effect, EndReason, Ending};
use crate::calendar::{Month, Period, days_after_arrival, deadline_within_days, period_end};
use crate::catalog::OptionKind;
use crate::contract::{find_contract, minimum_period_end, refuse_date_order};

/// Days from notice arrival to a contract's end at the earliest (R13.1, D3).
pub const CANCELLATION_NOTICE_DAYS: u16 = 14;
/// Days from notice arrival to an option's stop at the earliest (R9.10, D3).
pub const OPTION_STOP_NOTICE_DAYS: u16 = 30;
/// Days after a contract's end within which its device must be returned (R10.3, D4).
pub const RETURN_DAYS: u16 = 30;

/// The date a notice takes effect: the later of arrival + `days` (D3) and the requested date.
///
/// R13.1 (14 days, contracts) and R9.10 (30 days, options).
pub fn effective_end(arrival: Date, days: u16, requested: Option<Date>) -> Date {
    let earliest = days_after_arrival(arrival, days).unwrap_or(arrival);
    requested.map_or(earliest, |r| r.max(earliest))
}

/// How an operator or contractor ends a contract.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The contractor's notice (R13.1).
    Notice,
    /// The operator cancels under Art. 28 §2 of the general terms (R15.2).
    GeneralTermsArt28Para2,
    /// The operator cancels under Art. 28 §3 of the general terms (R15.2).
    GeneralTermsArt28Para3,
}

/// Cancels a contract.
///
/// By notice, the contract ends on the later of arrival + 14 days and the requested date
/// (R13.1); under Art. 28 §2/§3 of the general terms it ends on the date the operator sets and
/// owes no early-termination charge (R15.2). Its options end with it (R13.3), with their packet
/// share cascades (R9.7), and its device is due back within 30 days (R10.3).
///
/// # Errors
/// `already_ending` when an end is already set; `date_order` when the notice precedes the
/// contract; `R13.1` when an operator cancellation has no date.
pub fn cancel_contract(
    book: &Book,
    contract_id: &str,
    how: Termination,
    notice_arrived_on: Date,
    requested_on: Option<Date>,
) -> Result<Vec<Effect>, Refusal> {
    let contract = find_contract(book, contract_id)?;
    if let Some(end) = contract.end_on() {
        return Err(already_ending("contract", end));
    }
    if notice_arrived_on < contract.accepted_on {
        return Err(refuse_date_order(
            "notice",
            contract.accepted_on,
            notice_arrived_on,
        ));
    }
    let (on, reason) = match how {
        Termination::Notice => (
            effective_end(notice_arrived_on, CANCELLATION_NOTICE_DAYS, requested_on),
            EndReason::Notice,
        ),
        Termination::GeneralTermsArt28Para2 | Termination::GeneralTermsArt28Para3 => {
            let on = requested_on.ok_or_else(|| {
                Refusal::new(
                    "R13.1",
                    "an operator cancellation under the general terms needs its end date",
                    "約款に基づく解除には終了日の指定が必要です",
                )
            })?;
            let reason = if how == Termination::GeneralTermsArt28Para2 {
                EndReason::GeneralTermsArt28Para2
            } else {
                EndReason::GeneralTermsArt28Para3
            };
            (on.max(notice_arrived_on), reason)
        }
    };
    let ending = Ending {
        on,
        reason,
        notice_arrived_on: Some(notice_arrived_on),
        requested_on,
        exempt_from_early_termination: how != Termination::Notice,
    };
    let mut cascade = Cascade::new(book);
    cascade.end_contract(contract_id, ending);
    Ok(cascade.effects)
}

/// Stops an option (`ultra_sendback` or `mobile_access`) on notice.
///
/// R9.10: on the later of arrival + 30 days and the requested date. Stopping `ultra_sendback`
/// ends the contract the same day (R13.2); stopping a `packet_share` SIM removes it from its
/// group and stops the group when it was the last member (R9.7).
///
/// # Errors
/// `already_ending`; `date_order`; `R13.3` when the contract ends before that day.
pub fn stop_option(
    book: &Book,
    option_id: &str,
    notice_arrived_on: Date,
    requested_on: Option<Date>,
) -> Result<Vec<Effect>, Refusal> {
    let option = book
        .option(option_id)
        .ok_or_else(|| not_found("option", option_id))?;
    if let Some(end) = option.end_on() {
        return Err(already_ending("option", end));
    }
    if notice_arrived_on < option.accepted_on {
        return Err(refuse_date_order(
            "notice",
            option.accepted_on,
            notice_arrived_on,
        ));
    }
    let on = effective_end(notice_arrived_on, OPTION_STOP_NOTICE_DAYS, requested_on);
    let contract = find_contract(book, &option.contract_id)?;
    if let Some(contract_end) = contract.end_on().filter(|end| *end < on) {
        return Err(Refusal::new(
            "R13.3",
            format!("the option would stop on {on}, after its contract ends on {contract_end}"),
            format!("契約が {contract_end} に終了するため、{on} の利用停止はできません"),
        ));
    }
    let mut cascade = Cascade::new(book);
    cascade.end_option(
        option_id,
        notice_ending(on, notice_arrived_on, requested_on),
    );
    Ok(cascade.effects)
}

/// Stops a packet share group on notice (R9.10), and with it the `packet_share` option of every
/// member on the same day (R9.7).
///
/// # Errors
/// `already_ending`; `date_order`.
pub fn stop_group(
    book: &Book,
    group_id: &str,
    notice_arrived_on: Date,
    requested_on: Option<Date>,
) -> Result<Vec<Effect>, Refusal> {
    let group = book
        .group(group_id)
        .ok_or_else(|| not_found("packet share group", group_id))?;
    if let Some(end) = group.end_on() {
        return Err(already_ending("packet share group", end));
    }
    if notice_arrived_on < group.accepted_on {
        return Err(refuse_date_order(
            "notice",
            group.accepted_on,
            notice_arrived_on,
        ));
    }
    let on = effective_end(notice_arrived_on, OPTION_STOP_NOTICE_DAYS, requested_on);
    let mut cascade = Cascade::new(book);
    cascade.end_group(group_id, notice_ending(on, notice_arrived_on, requested_on));
    Ok(cascade.effects)
}

fn notice_ending(on: Date, arrived: Date, requested: Option<Date>) -> Ending {
    Ending {
        on,
        reason: EndReason::Notice,
        notice_arrived_on: Some(arrived),
        requested_on: requested,
        exempt_from_early_termination: false,
    }
}

fn already_ending(what: &str, on: Date) -> Refusal {
    Refusal::new(
        "already_ending",
        format!("the {what} already ends on {on}"),
        format!("既に {on} に終了する予定です"),
    )
}

pub(crate) fn not_found(what: &str, id: &str) -> Refusal {
    Refusal::new(
        "not_found",
        format!("no {what} {id}"),
        format!("{id} は存在しません"),
    )
}

/// Works out every end that follows from one, on a working copy of the book, so that each
/// thing ends once and at its earliest day.
pub(crate) struct Cascade {
    book: Book,
    pub effects: Vec<Effect>,
}

impl Cascade {
    pub fn new(book: &Book) -> Self {
        Cascade {
            book: book.clone(),
            effects: Vec::new(),
        }
    }

    fn push(&mut self, effect: Effect) {
        self.book.apply(&effect);
        self.effects.push(effect);
    }

    /// Ends a contract, its options (R13.3) and its device's service (R10.3).
    pub fn end_contract(&mut self, contract_id: &str, ending: Ending) {
        let on = ending.on;
        match self.book.contract(contract_id) {
            Some(c) if c.end_on().is_none_or(|e| e > on) => {}
            _ => return,
        }
        self.push(Effect::ContractEnds {
            contract_id: contract_id.to_owned(),
            ending: ending.clone(),
        });
        let options: Vec<String> = self
            .book
            .options_of(contract_id)
            .filter(|o| o.end_on().is_none_or(|e| e > on))
            .map(|o| o.id.clone())
            .collect();
        for id in options {
            self.end_option(
                &id,
                Ending::following(&ending, EndReason::ContractEnded, on),
            );
        }
        let serving: Vec<String> = self
            .book
            .devices
            .iter()
            .filter(|d| {
                d.assignments
                    .iter()
                    .any(|a| a.contract_id == contract_id && a.until.is_none_or(|u| u > on))
            })
            .map(|d| d.serial.clone())
            .collect();
        for serial in serving {
            self.push(Effect::DeviceReleased {
                serial,
                last_day: on,
                return_due: deadline_within_days(on, RETURN_DAYS).ok(),
            });
        }
    }

    /// Ends an option, with R13.2 and R9.7 cascades.
    pub fn end_option(&mut self, option_id: &str, ending: Ending) {
        let on = ending.on;
        let Some(option) = self.book.option(option_id) else {
            return;
        };
        if option.end_on().is_some_and(|e| e <= on) {
            return;
        }
        let kind = option.kind;
        let contract_id = option.contract_id.clone();
        self.push(Effect::OptionEnds {
            option_id: option_id.to_owned(),
            ending: ending.clone(),
        });
        if kind == OptionKind::UltraSendback && ending.reason != EndReason::ContractEnded {
            self.end_contract(
                &contract_id,
                Ending::following(&ending, EndReason::SendbackStopped, on),
            );
        }
        self.leave_group(option_id, on, &ending);
    }

    /// Removes a SIM from its group after `last_day`; the group stops that day when no other
    /// member stays (R9.7).
    pub fn leave_group(&mut self, option_id: &str, last_day: Date, cause: &Ending) {
        let Some(group) = self.book.groups.iter().find(|g| {
            g.members
                .iter()
                .any(|m| m.option_id == option_id && m.until.is_none_or(|u| u > last_day))
        }) else {
            return;
        };
        let group_id = group.id.clone();
        let others_stay = group
            .members
            .iter()
            .any(|m| m.option_id != option_id && m.until.is_none_or(|u| u > last_day));
        let group_ends_later = group.end_on().is_none_or(|e| e > last_day);
        self.push(Effect::MemberLeft {
            group_id: group_id.clone(),
            option_id: option_id.to_owned(),
            last_day,
        });
        if !others_stay && group_ends_later {
            self.end_group(
                &group_id,
                Ending::following(cause, EndReason::LastMemberLeft, last_day),
            );
        }
    }

    /// Ends a group and the `packet_share` option of each member on the same day (R9.7).
    pub fn end_group(&mut self, group_id: &str, ending: Ending) {
        let on = ending.on;
        let Some(group) = self.book.group(group_id) else {
            return;
        };
        if group.end_on().is_some_and(|e| e <= on) {
            return;
        }
        let members: Vec<String> = group
            .members
            .iter()
            .filter(|m| m.until.is_none_or(|u| u > on))
            .map(|m| m.option_id.clone())
            .collect();
        self.push(Effect::GroupEnds {
            group_id: group_id.to_owned(),
            ending: ending.clone(),
        });
        for option_id in members {
            self.end_option(
                &option_id,
                Ending::following(&ending, EndReason::GroupStopped, on),
            );
        }
    }
}

/// The days of one calendar month that an early-termination charge covers (R15.1, D7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemainingDays {
    pub month: Month,
    /// Days of the minimum period left in this month after the end date.
    pub days: i8,
    /// Days of the month: the divisor of D7's proration.
    pub days_in_month: i8,
}

/// The days from the day after `end_on` to the last day of the minimum period, month by month
/// (R15.1). Empty when the period is over, or never ran: no billing start, or an end before it
/// (R5.2). The charge itself is floor(M × days / days_in_month) per month and price (D7).
pub fn remaining_minimum_days(
    billing_start: Option<Date>,
    minimum_end: Option<Date>,
    end_on: Date,
) -> Vec<RemainingDays> {
    let Some(last) = minimum_end else {
        return Vec::new();
    };
    if billing_start.is_none_or(|start| end_on < start) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let Ok(mut day) = end_on.checked_add(1.day()) else {
        return out;
    };
    while day <= last {
        let month = Month::containing(day);
        let until = month.last_day().min(last);
        let days = i8::try_from(until.since(day).map_or(0, |s| s.get_days()) + 1).unwrap_or(0);
        out.push(RemainingDays {
            month,
            days,
            days_in_month: month.days(),
        });
        match until.checked_add(1.day()) {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

/// The minimum period end of an option (R9.8): one month from its billing start (D2).
pub fn option_minimum_period_end(option_billing_start: Option<Date>) -> Option<Date> {
    option_billing_start.and_then(|s| period_end(s, Period::months(1)).ok())
}

/// The early-termination days a contract's end leaves, unless exempt (R15.1, R15.2).
pub fn contract_early_termination(book: &Book, contract_id: &str) -> Vec<RemainingDays> {
    match book.contract(contract_id) {
        Some(c) => match &c.ending {
            Some(e) if !e.exempt_from_early_termination => {
                remaining_minimum_days(c.billing_start, minimum_period_end(c), e.on)
            }
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{ContractOption, Membership, PacketShareGroup, Timeline};
    use crate::catalog::{DeviceType, MobileUsageType, NetworkType};
    use crate::contract::tests::adapter;
    use jiff::civil::date;

    fn option(id: &str, contract: &str, kind: OptionKind, on: Date) -> ContractOption {
        let mobile = kind == OptionKind::MobileAccess;
        ContractOption {
            id: id.into(),
            contract_id: contract.into(),
            kind,
            applied_on: on,
            accepted_on: on,
            install_address: (!mobile).then(|| "東京都千代田区".into()),
            usage_types: if mobile {
                Timeline::starting(on, MobileUsageType::PacketShare)
            } else {
                Timeline::default()
            },
            network_types: if mobile {
                Timeline::starting(on, NetworkType::DynamicIp)
            } else {
                Timeline::default()
            },
            ending: None,
        }
    }

    /// Two SA-W2L contracts with send-back and a packet_share SIM each, both in one group.
    fn shared_book() -> Book {
        let start = date(2026, 4, 1);
        Book {
            contracts: vec![
                adapter("a1", "k1", DeviceType::SaW2l, start),
                adapter("a2", "k1", DeviceType::SaW2l, start),
            ],
            options: vec![
                option("s1", "a1", OptionKind::UltraSendback, start),
                option("m1", "a1", OptionKind::MobileAccess, start),
                option("s2", "a2", OptionKind::UltraSendback, start),
                option("m2", "a2", OptionKind::MobileAccess, start),
            ],
            groups: vec![PacketShareGroup {
                id: "g1".into(),
                contractor_id: "k1".into(),
                applied_on: start,
                accepted_on: start,
                packs: Timeline::starting(start, 50),
                members: vec![
                    Membership {
                        option_id: "m1".into(),
                        from: start,
                        until: None,
                    },
                    Membership {
                        option_id: "m2".into(),
                        from: start,
                        until: None,
                    },
                ],
                ending: None,
            }],
            devices: Vec::new(),
        }
    }

    #[test]
    fn r13_1_end_is_arrival_plus_14_or_the_later_requested_date() {
        let book = shared_book();
        // Arrival 2026-05-01 + 14 days = 2026-05-15 (D3); requested 2026-05-10 is earlier.
        let e = cancel_contract(
            &book,
            "a1",
            Termination::Notice,
            date(2026, 5, 1),
            Some(date(2026, 5, 10)),
        )
        .unwrap();
        assert_eq!(
            book.with(&e).contract("a1").unwrap().end_on(),
            Some(date(2026, 5, 15))
        );
        // Requested 2026-06-30 is later than 2026-05-15: it wins.
        let e = cancel_contract(
            &book,
            "a1",
            Termination::Notice,
            date(2026, 5, 1),
            Some(date(2026, 6, 30)),
        )
        .unwrap();
        assert_eq!(
            book.with(&e).contract("a1").unwrap().end_on(),
            Some(date(2026, 6, 30))
        );
        // No requested date: 2026-05-15.
        let e = cancel_contract(&book, "a1", Termination::Notice, date(2026, 5, 1), None).unwrap();
        let after = book.with(&e);
        assert_eq!(
            after.contract("a1").unwrap().end_on(),
            Some(date(2026, 5, 15))
        );
        assert_eq!(
            cancel_contract(&after, "a1", Termination::Notice, date(2026, 5, 2), None)
                .unwrap_err()
                .rule,
            "already_ending"
        );
    }

    #[test]
    fn r13_3_options_end_with_their_contract_and_r9_7_the_sim_leaves_its_group() {
        let book = shared_book();
        let e = cancel_contract(&book, "a1", Termination::Notice, date(2026, 5, 1), None).unwrap();
        let after = book.with(&e);
        for id in ["s1", "m1"] {
            let o = after.option(id).unwrap();
            assert_eq!(o.end_on(), Some(date(2026, 5, 15)), "{id}");
            assert_eq!(o.ending.as_ref().unwrap().reason, EndReason::ContractEnded);
        }
        let g = after.group("g1").unwrap();
        assert_eq!(g.members_on(date(2026, 5, 16)).count(), 1, "m2 stays");
        assert_eq!(g.end_on(), None, "the group keeps its other member");
        assert!(after.contract("a2").unwrap().end_on().is_none());
    }

    #[test]
    fn r13_2_stopping_send_back_ends_the_contract_the_same_day() {
        let book = shared_book();
        // Option stop: arrival 2026-05-01 + 30 days = 2026-05-31 (R9.10, D3).
        let e = stop_option(&book, "s1", date(2026, 5, 1), None).unwrap();
        let after = book.with(&e);
        assert_eq!(
            after.option("s1").unwrap().end_on(),
            Some(date(2026, 5, 31))
        );
        let c = after.contract("a1").unwrap();
        assert_eq!(c.end_on(), Some(date(2026, 5, 31)));
        assert_eq!(
            c.ending.as_ref().unwrap().reason,
            EndReason::SendbackStopped
        );
        assert_eq!(
            after.option("m1").unwrap().end_on(),
            Some(date(2026, 5, 31))
        );
    }

    #[test]
    fn r9_7_group_stop_ends_every_members_option_and_last_member_ends_the_group() {
        let book = shared_book();
        // Group stop: arrival 2026-06-10 + 30 = 2026-07-10; requested 2026-07-31 is later.
        let e = stop_group(&book, "g1", date(2026, 6, 10), Some(date(2026, 7, 31))).unwrap();
        let after = book.with(&e);
        assert_eq!(after.group("g1").unwrap().end_on(), Some(date(2026, 7, 31)));
        for id in ["m1", "m2"] {
            let o = after.option(id).unwrap();
            assert_eq!(o.end_on(), Some(date(2026, 7, 31)));
            assert_eq!(o.ending.as_ref().unwrap().reason, EndReason::GroupStopped);
        }
        assert!(
            after.contract("a1").unwrap().end_on().is_none(),
            "contracts go on without their SIM"
        );

        // Stopping members one by one: the first leaves, the last one's stop ends the group.
        let e1 = stop_option(&book, "m1", date(2026, 6, 1), None).unwrap();
        let step = book.with(&e1);
        assert_eq!(step.group("g1").unwrap().end_on(), None);
        let e2 = stop_option(&step, "m2", date(2026, 6, 5), Some(date(2026, 7, 15))).unwrap();
        let last = step.with(&e2);
        let g = last.group("g1").unwrap();
        assert_eq!(g.end_on(), Some(date(2026, 7, 15)));
        assert_eq!(g.ending.as_ref().unwrap().reason, EndReason::LastMemberLeft);
    }

    #[test]
    fn r9_10_an_option_cannot_outlive_its_contract() {
        let book = shared_book();
        let e = cancel_contract(
            &book,
            "a2",
            Termination::Notice,
            date(2026, 5, 1),
            Some(date(2026, 5, 20)),
        )
        .unwrap();
        let after = book.with(&e);
        // The options already end with the contract.
        assert_eq!(
            stop_option(&after, "s2", date(2026, 5, 1), None)
                .unwrap_err()
                .rule,
            "already_ending"
        );
    }

    #[test]
    fn r15_remaining_days_month_by_month() {
        // Billing start 2026-04-10 → minimum period ends 2027-04-09 (R5.1, D2).
        // End 2027-02-14 → remaining: Feb 15–28 = 14 of 28 days, Mar 1–31 = 31 of 31, Apr 1–9 = 9 of 30.
        let start = Some(date(2026, 4, 10));
        let days = remaining_minimum_days(start, Some(date(2027, 4, 9)), date(2027, 2, 14));
        let got: Vec<_> = days
            .iter()
            .map(|d| (d.month.to_string(), d.days, d.days_in_month))
            .collect();
        assert_eq!(
            got,
            [
                ("2027-02".to_string(), 14, 28),
                ("2027-03".to_string(), 31, 31),
                ("2027-04".to_string(), 9, 30)
            ]
        );
        assert!(remaining_minimum_days(start, Some(date(2027, 4, 9)), date(2027, 4, 9)).is_empty());
        assert!(remaining_minimum_days(start, None, date(2027, 1, 1)).is_empty());
        // R5.2: an end before the billing start (or without one) leaves no minimum period.
        assert!(remaining_minimum_days(start, Some(date(2027, 4, 9)), date(2026, 4, 9)).is_empty());
        assert!(remaining_minimum_days(None, Some(date(2027, 4, 9)), date(2026, 5, 1)).is_empty());
        assert_eq!(
            remaining_minimum_days(start, Some(date(2027, 4, 9)), date(2026, 4, 10)).len(),
            13,
            "an end on the billing start day owes the rest of the year: April 11 … April 9"
        );
    }

    #[test]
    fn r15_2_general_terms_cancellations_owe_nothing_and_pass_it_on() {
        let book = shared_book();
        let e = cancel_contract(
            &book,
            "a1",
            Termination::GeneralTermsArt28Para2,
            date(2026, 6, 1),
            Some(date(2026, 6, 1)),
        )
        .unwrap();
        let after = book.with(&e);
        assert_eq!(
            after.contract("a1").unwrap().end_on(),
            Some(date(2026, 6, 1))
        );
        assert!(contract_early_termination(&after, "a1").is_empty());
        assert!(
            after
                .option("m1")
                .unwrap()
                .ending
                .as_ref()
                .unwrap()
                .exempt_from_early_termination
        );
        // By notice, the same end owes the rest of the year: 2026-06-02 … 2027-03-31.
        let e = cancel_contract(
            &book,
            "a1",
            Termination::Notice,
            date(2026, 5, 1),
            Some(date(2026, 6, 1)),
        )
        .unwrap();
        let days = contract_early_termination(&book.with(&e), "a1");
        assert_eq!(days.first().map(|d| d.days), Some(29)); // June 2–30
        assert_eq!(days.len(), 10); // June 2026 … March 2027
        assert_eq!(
            cancel_contract(
                &book,
                "a1",
                Termination::GeneralTermsArt28Para3,
                date(2026, 6, 1),
                None
            )
            .unwrap_err()
            .rule,
            "R13.1"
        );
    }

    #[test]
    fn r10_3_the_device_is_due_back_30_days_after_the_end() {
        let mut book = shared_book();
        book.apply(&Effect::DeviceAssigned {
            serial: "X1".into(),
            device_type: DeviceType::SaW2l,
            contract_id: "a1".into(),
            from: date(2026, 4, 1),
        });
        let e = cancel_contract(&book, "a1", Termination::Notice, date(2026, 5, 1), None).unwrap();
        let after = book.with(&e);
        let d = after.device("X1").unwrap();
        // End 2026-05-15 + 30 days = 2026-06-14 (D4), inclusive.
        assert_eq!(d.return_due, Some(date(2026, 6, 14)));
        assert_eq!(
            d.contract_on(date(2026, 5, 15)),
            Some("a1"),
            "D6: the end day is still served"
        );
        assert_eq!(d.contract_on(date(2026, 5, 16)), None);
    }
}
