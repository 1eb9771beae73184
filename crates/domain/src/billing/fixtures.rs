//! Prices, books and helpers the billing tests share.

pub(super) use jiff::civil::{Date, date};

pub(super) use super::{Line, LineKind, MonthInput, bill_month, termination_charge};
pub(super) use crate::book::{
    Book, ChargeEvent, ChargeKind, Effect, Membership, PacketShareGroup, Timeline,
};
pub(super) use crate::catalog::{DeviceType, Item, MobileUsageType, NetworkType, OptionKind};
pub(super) use crate::contract::tests::{adapter, management};
pub(super) use crate::eligibility::InvoiceRedirect;
pub(super) use crate::ending::{Termination, cancel_contract, stop_option};
pub(super) use crate::money::Yen;
pub(super) use crate::price::{Price, PriceBook, PriceKey};
pub(super) use crate::sla::ApprovedCredit;

/// List prices used by every test (yen, tax excluded).
pub(super) fn prices() -> PriceBook {
    let from = date(2020, 1, 1);
    let p = |key, amount| Price {
        key,
        contractor_id: None,
        effective_from: from,
        amount: Yen(amount),
    };
    let mut list = vec![
        p(PriceKey::ManagementInitial, 20_000),
        p(PriceKey::ManagementMonthly, 10_000),
        p(PriceKey::SendbackInitial, 5_000),
        p(PriceKey::SendbackMonthly, 1_500),
        p(PriceKey::MobileInitial(NetworkType::DynamicIp), 3_000),
        p(PriceKey::MobileInitial(NetworkType::FixedIp), 3_000),
        p(PriceKey::MobileMonthly(NetworkType::DynamicIp, None), 1_000),
        p(PriceKey::MobileMonthly(NetworkType::FixedIp, None), 1_800),
        p(
            PriceKey::MobileMonthly(NetworkType::DynamicIp, Some(MobileUsageType::Plan30gb)),
            3_100,
        ),
        p(PriceKey::GroupInitial, 0),
        p(PriceKey::GroupMonthlyBase, 2_000),
        p(PriceKey::GroupMonthlyPerGb, 150),
        p(PriceKey::ItemChangeFee, 8_000),
        p(PriceKey::NetworkTypeToFixedFee, 2_000),
        p(PriceKey::ContractorCausedFailureFee, 30_000),
    ];
    for d in DeviceType::ALL {
        list.push(p(PriceKey::LossFee(d), 60_000));
        for i in Item::ALL {
            list.push(p(PriceKey::AdapterInitial(i, d), 10_000));
        }
    }
    // Monthly fees of the nine combinations differ so tests see which one applied.
    for (i, item) in Item::ALL.into_iter().enumerate() {
        for (j, device) in DeviceType::ALL.into_iter().enumerate() {
            list.push(p(
                PriceKey::AdapterMonthly(item, device),
                3_000 + 1_000 * i as i64 + 100 * j as i64,
            ));
        }
    }
    PriceBook::new(list)
}

pub(super) fn bill(
    book: &Book,
    month: &str,
    charges: &[ChargeEvent],
    redirects: &[InvoiceRedirect],
    credits: &[ApprovedCredit],
) -> Vec<Line> {
    let prices = prices();
    bill_month(&MonthInput {
        contractor_id: "k1",
        month: month.parse().unwrap(),
        book,
        charges,
        prices: &prices,
        redirects,
        credits,
    })
    .unwrap()
}

pub(super) fn monthly(lines: &[Line]) -> Vec<(Yen, Option<i8>)> {
    lines
        .iter()
        .filter(|l| l.kind == LineKind::MonthlyFee)
        .map(|l| (l.amount, l.days))
        .collect()
}

/// An internet_gateway SEIL/X4 (¥3,000/month) accepted and billed from `start`.
pub(super) fn x4(start: Date) -> Book {
    let mut c = adapter("a1", "k1", DeviceType::SeilX4, start);
    c.accepted_on = date(2020, 1, 1);
    Book {
        contracts: vec![c],
        ..Default::default()
    }
}

/// The early-termination charges month by month: each line's breakdown (R15.1).
pub(super) fn early_termination(lines: &[Line]) -> Vec<(&str, Date, Date, Yen)> {
    lines
        .iter()
        .filter(|l| l.kind == LineKind::EarlyTermination)
        .flat_map(|l| {
            l.breakdown
                .iter()
                .map(|p| (l.subject_id.as_str(), p.period_from, p.period_to, p.amount))
        })
        .collect()
}
