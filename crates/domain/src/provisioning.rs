//! What a service adapter's device is served when it calls home, or why it is served nothing:
//! its serial must be notified (R7.1), its contract must have an item whose preset it runs
//! (R2.2), and that preset must be complete (R17.1).

use jiff::civil::Date;

use crate::Refusal;
use crate::account::FieldError;
use crate::book::{Book, Contract};
use crate::catalog::Item;
use crate::custody::provisionable;

/// Whether the device of `contract` may fetch its configuration on `date`, as the contract
/// shows it: a device must have been notified for it (R7.1), and that device must be
/// [`provisionable`].
///
/// # Errors
/// `R7.1` when no device serves the contract; otherwise what [`provisionable`] refuses.
pub fn contract_provisionable(book: &Book, contract: &Contract, date: Date) -> Result<(), Refusal> {
    match book.device_of(&contract.id, date) {
        Some(d) => provisionable(book, &d.serial, date).map(|_| ()),
        None => Err(Refusal::new(
            "R7.1",
            "the device's serial number has not been notified",
            "サービスアダプタのシリアルナンバーが通知されていません",
        )),
    }
}

/// The item in force on `date`, which decides the preset the device runs (R2.2).
///
/// # Errors
/// `R2.2` when the contract has no item that day.
pub fn item_in_force(contract: &Contract, date: Date) -> Result<Item, Refusal> {
    contract.item(date).ok_or_else(|| {
        Refusal::new(
            "R2.2",
            "the contract has no item in force",
            "契約に有効な品目がありません",
        )
    })
}

/// Why a device receives nothing while its preset is incomplete (R17.1): the parameters it
/// waits for, each named once, so the contractor knows what to fill in.
pub fn awaiting_parameters(errors: &[FieldError]) -> Refusal {
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    fields.dedup();
    let fields = fields.join(", ");
    Refusal::new(
        "R17.1",
        format!("the device waits for these preset parameters: {fields}"),
        format!("機器はプリセットのパラメータの設定を待っています: {fields}"),
    )
}

/// Why a device receives nothing when its preset could not be read (R17.1): a device is
/// served only a preset the system has validated, so an unreadable one withholds it.
pub fn unreadable_preset(reason: &str) -> Refusal {
    Refusal::new(
        "R17.1",
        format!("the preset could not be read: {reason}"),
        "プリセットを読み込めませんでした",
    )
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::book::Effect;
    use crate::catalog::DeviceType;
    use crate::contract::tests::adapter;

    #[test]
    fn r7_1_a_contract_without_a_notified_device_is_not_provisionable() {
        let a1 = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1));
        let mut book = Book {
            contracts: vec![a1.clone()],
            ..Default::default()
        };
        let r = contract_provisionable(&book, &a1, date(2026, 4, 2)).unwrap_err();
        assert_eq!(r.rule, "R7.1");
        book.apply(&Effect::DeviceAssigned {
            serial: "CA-1".into(),
            device_type: DeviceType::SeilCa10,
            contract_id: "a1".into(),
            from: date(2026, 4, 2),
        });
        assert_eq!(contract_provisionable(&book, &a1, date(2026, 4, 2)), Ok(()));
    }

    #[test]
    fn r2_2_no_item_before_the_first_one_is_in_force() {
        let a1 = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1));
        assert_eq!(
            item_in_force(&a1, date(2026, 4, 1)),
            Ok(Item::InternetGateway)
        );
        assert_eq!(
            item_in_force(&a1, date(2026, 3, 31)).unwrap_err().rule,
            "R2.2"
        );
    }

    #[test]
    fn r17_1_the_device_names_each_awaited_parameter_once() {
        let e = |field| FieldError::new(field, String::new(), String::new());
        let r = awaiting_parameters(&[e("wan.pppoe.user"), e("wan.pppoe.user"), e("lan.router")]);
        assert_eq!(r.rule, "R17.1");
        assert!(r.message_en.ends_with(": wan.pppoe.user, lan.router"));
        assert_eq!(unreadable_preset("gone").rule, "R17.1");
    }
}
