//! Which preset a contract may store or render (R2.2), asked before a revision is written.
//!
//! The item decides the preset, so parameters of another item's preset are refused rather
//! than stored: a contractor changes the item by an item-change request (R8.1), which converts
//! the parameters itself.

use jiff::civil::Date;

use super::PresetParams;
use crate::Refusal;
use crate::book::Contract;
use crate::catalog::{DeviceType, Item};

/// The device type a contract's preset is rendered for (R2.2).
///
/// # Errors
/// `R2.2` when the contract is not a service adapter: only those have a preset.
pub fn preset_device(contract: &Contract) -> Result<DeviceType, Refusal> {
    contract.device_type.ok_or_else(|| {
        Refusal::new(
            "R2.2",
            "only a service-adapter contract has a preset",
            "プリセットはサービスアダプタの契約にのみあります",
        )
    })
}

/// Edited parameters are stored only as the preset of the contract's item on `date` (R2.2).
///
/// # Errors
/// `R2.2` when `params` are another item's preset, or the contract has no item that day.
pub fn check_edit(contract: &Contract, params: &PresetParams, date: Date) -> Result<(), Refusal> {
    let item = contract.item(date);
    if item == Some(params.item()) {
        return Ok(());
    }
    Err(Refusal::new(
        "R2.2",
        format!(
            "the contract's item is {}, so its preset is that item's; change the item by an item-change request (R8.1)",
            item.map_or("none", |i| i.as_str())
        ),
        "プリセットは契約の品目で決まります。品目の変更は品目変更の申込(R8.1)で行います",
    ))
}

/// A rollback to revision `of`, a preset of `old_item`, is stored only while that is still
/// the contract's item on `date` (R2.2).
///
/// # Errors
/// `R2.2` when the item changed since revision `of`.
pub fn check_rollback(
    contract: &Contract,
    of: i64,
    old_item: Item,
    date: Date,
) -> Result<(), Refusal> {
    if contract.item(date) == Some(old_item) {
        return Ok(());
    }
    Err(Refusal::new(
        "R2.2",
        format!("revision {of} is a {old_item} preset, not the contract's current item"),
        format!("リビジョン {of} は現在の品目のプリセットではありません"),
    ))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::contract::tests::{adapter, management};

    #[test]
    fn r2_2_only_a_service_adapter_has_a_preset() {
        let a1 = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1));
        assert_eq!(preset_device(&a1), Ok(DeviceType::SeilCa10));
        let m1 = management("m1", "k1", date(2026, 4, 1));
        assert_eq!(preset_device(&m1).unwrap_err().rule, "R2.2");
    }

    #[test]
    fn r2_2_an_edit_is_the_preset_of_the_item_in_force() {
        // The adapter runs an internet gateway from 1 April: its preset is stored that day,
        // another item's is refused, and nothing is stored before the item is in force.
        let a1 = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1));
        let gateway = PresetParams::default_for(Item::InternetGateway);
        let remote = PresetParams::default_for(Item::RemoteAccess);
        assert_eq!(check_edit(&a1, &gateway, date(2026, 4, 1)), Ok(()));
        let r = check_edit(&a1, &remote, date(2026, 4, 1)).unwrap_err();
        assert_eq!(r.rule, "R2.2");
        assert!(r.message_en.contains("R8.1"));
        let r = check_edit(&a1, &gateway, date(2026, 3, 31)).unwrap_err();
        assert!(r.message_en.starts_with("the contract's item is none"));
    }

    #[test]
    fn r2_2_a_rollback_is_to_a_preset_of_the_item_in_force() {
        let a1 = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1));
        assert_eq!(
            check_rollback(&a1, 1, Item::InternetGateway, date(2026, 4, 2)),
            Ok(())
        );
        let r = check_rollback(&a1, 3, Item::RemoteAccess, date(2026, 4, 2)).unwrap_err();
        assert_eq!(r.rule, "R2.2");
        assert!(r.message_en.starts_with("revision 3 is a "));
    }
}
