//! Binding a SIM closes the services it replaces (R9.3): an option has one SIM a day, and a
//! SIM serves one option a day.

use jiff::civil::Date;

use crate::Refusal;

/// A binding from `from` may close a service of `iccid` that began on `serves_from` only if
/// that service began before `from` (R9.3): it then ends the day before, and a service that
/// begins on or after `from` would be left with no day at all.
///
/// # Errors
/// `R9.3` naming the SIM and the day its service begins, so the binding is retried from a
/// later day.
pub fn check_closing(iccid: &str, serves_from: Date, from: Date) -> Result<(), Refusal> {
    if serves_from < from {
        return Ok(());
    }
    Err(Refusal::new(
        "R9.3",
        format!("{iccid} serves from {serves_from} already; bind from a later day"),
        format!("{iccid} は {serves_from} から登録済みです。より後の日付で登録してください"),
    ))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn r9_3_a_binding_closes_only_services_that_began_before_it() {
        // A service from 1 April closes on 30 April for a binding from 1 May.
        let iccid = "898110000000000001";
        assert_eq!(
            check_closing(iccid, date(2026, 4, 1), date(2026, 5, 1)),
            Ok(())
        );
        // A service from 1 May (or later) would end on 30 April, before it began.
        for serves_from in [date(2026, 5, 1), date(2026, 5, 2)] {
            let r = check_closing(iccid, serves_from, date(2026, 5, 1)).unwrap_err();
            assert_eq!(r.rule, "R9.3");
            assert_eq!(
                r.message_en,
                format!("{iccid} serves from {serves_from} already; bind from a later day")
            );
        }
    }
}
