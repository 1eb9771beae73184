//! Money: whole yen (JPY has no minor unit), never a float.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub};

use serde::{Deserialize, Serialize};

/// An amount of yen. Prices are tax-exclusive (B3).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Yen(pub i64);

impl Yen {
    pub const ZERO: Yen = Yen(0);

    /// D7: the part of a monthly fee `self` owed for `days` of a month of `days_in_month`
    /// days, floor(M × d / D), in 128-bit arithmetic so no price can overflow.
    pub fn prorate(self, days: i64, days_in_month: i64) -> Yen {
        debug_assert!(days_in_month > 0);
        let part = (i128::from(self.0) * i128::from(days)).div_euclid(i128::from(days_in_month));
        Yen(i64::try_from(part).expect(BOUNDED))
    }

    /// floor(self × numerator / denominator): R16.2's n/30 of a monthly fee, B3's 10% tax.
    pub fn fraction(self, numerator: i64, denominator: i64) -> Yen {
        self.prorate(numerator, denominator)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self × n`: a per-unit price times a count (the packet pack's per-GB price × GB).
    pub fn times(self, n: i64) -> Yen {
        Yen(self.0.checked_mul(n).expect(BOUNDED))
    }

    pub fn checked_add(self, rhs: Yen) -> Option<Yen> {
        self.0.checked_add(rhs.0).map(Yen)
    }
}

/// Why yen arithmetic cannot overflow: every amount is bounded where it enters (prices by
/// [`crate::price::MAX_PRICE`], payments by [`crate::invoice::MAX_PAYMENT`], packs by R9.6), so
/// sums of a whole invoice stay far below `i64::MAX`. Overflow is a bug, never wrapped silently.
const BOUNDED: &str = "yen amounts are bounded where they enter (R14.1, B5)";

impl Add for Yen {
    type Output = Yen;
    fn add(self, rhs: Yen) -> Yen {
        self.checked_add(rhs).expect(BOUNDED)
    }
}

impl AddAssign for Yen {
    fn add_assign(&mut self, rhs: Yen) {
        *self = *self + rhs;
    }
}

impl Sub for Yen {
    type Output = Yen;
    fn sub(self, rhs: Yen) -> Yen {
        Yen(self.0.checked_sub(rhs.0).expect(BOUNDED))
    }
}

impl Neg for Yen {
    type Output = Yen;
    fn neg(self) -> Yen {
        Yen(self.0.checked_neg().expect(BOUNDED))
    }
}

impl Sum for Yen {
    fn sum<I: Iterator<Item = Yen>>(iter: I) -> Yen {
        iter.fold(Yen::ZERO, Add::add)
    }
}

/// `¥12,345` (and `-¥500` for credits).
impl fmt::Display for Yen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}¥{grouped}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn d7_floor_of_m_times_d_over_d() {
        // ¥3,000 for 16 of 31 days: 3000 × 16 / 31 = 1548.38… → ¥1,548.
        assert_eq!(Yen(3000).prorate(16, 31), Yen(1548));
        // ¥1,000 for 1 of 28 days: 35.71… → ¥35.
        assert_eq!(Yen(1000).prorate(1, 28), Yen(35));
        assert_eq!(
            Yen(-3000).prorate(16, 31),
            Yen(-1549),
            "floor, also for credits"
        );
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Yen(1234567).to_string(), "¥1,234,567");
        assert_eq!(Yen(-500).to_string(), "-¥500");
        assert_eq!(Yen(0).to_string(), "¥0");
    }

    proptest! {
        /// A whole month prorated is the monthly fee, and days of a month split anyhow never
        /// add up to more than it.
        #[test]
        fn proration_of_a_whole_month_is_the_fee(m in 0i64..10_000_000, d in 28i64..=31, cut in 0i64..=31) {
            prop_assert_eq!(Yen(m).prorate(d, d), Yen(m));
            let cut = cut.min(d);
            prop_assert!(Yen(m).prorate(cut, d) + Yen(m).prorate(d - cut, d) <= Yen(m));
        }
    }
}
