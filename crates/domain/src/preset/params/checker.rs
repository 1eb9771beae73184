//! The checker that collects every bad field of a preset's parameters (R17.1).

use std::net::Ipv4Addr;

use crate::account::FieldError;

use super::*;

/// The paths naming an address range and its two ends.
pub(super) struct RangeFields {
    pub(super) whole: &'static str,
    start: &'static str,
    end: &'static str,
}

pub(super) const DHCP_POOL: RangeFields = RangeFields {
    whole: "lan.dhcp_pool",
    start: "lan.dhcp_pool.start",
    end: "lan.dhcp_pool.end",
};

pub(super) const L2TP_POOL: RangeFields = RangeFields {
    whole: "l2tp.pool",
    start: "l2tp.pool.start",
    end: "l2tp.pool.end",
};

/// Collects every bad field rather than stopping at the first, so that the contractor sees
/// them all at once (R17.1).
#[derive(Default)]
pub(in crate::preset) struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn error(&mut self, field: &'static str, en: String, ja: String) {
        self.errors.push(FieldError {
            field,
            message_en: en,
            message_ja: ja,
        });
    }

    /// Text of 1 to `max` characters without control characters, which a recipe line cannot
    /// carry. Spaces are kept: in a secret they count.
    pub fn text(&mut self, field: &'static str, value: &str, max: usize) {
        self.text_at(field, field, value, max);
    }

    /// As [`Checker::text`], for an element of a list: `shown` names the element, such as
    /// `l2tp.users[2].name`, while `field` stays the path of every element.
    pub(super) fn text_at(&mut self, field: &'static str, shown: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len == 0 || len > max {
            self.error(
                field,
                format!("{shown} must be 1 to {max} characters"),
                format!("{shown} は1〜{max}文字で入力してください"),
            );
        } else if value.chars().any(char::is_control) {
            self.error(
                field,
                format!("{shown} must not contain control characters"),
                format!("{shown} に制御文字は使えません"),
            );
        }
    }

    pub(super) fn address(&mut self, field: &'static str, value: &str) -> Option<Ipv4Addr> {
        let Ok(addr) = value.parse::<Ipv4Addr>() else {
            self.error(
                field,
                format!("{field} must be an IPv4 address such as 192.168.0.1, not {value:?}"),
                format!("{field} はIPv4アドレス(例: 192.168.0.1)で入力してください: {value:?}"),
            );
            return None;
        };
        if matches!(addr.octets()[0], 0 | 127 | 224..) {
            self.error(
                field,
                format!("{field} must be a unicast address, not {addr}"),
                format!("{field} にはユニキャストアドレスを指定してください: {addr}"),
            );
            return None;
        }
        Some(addr)
    }

    pub(super) fn prefix_len(&mut self, field: &'static str, prefix: u8) -> Option<u8> {
        if (8..=30).contains(&prefix) {
            return Some(prefix);
        }
        self.error(
            field,
            format!("{field} must be 8 to 30, not {prefix}"),
            format!("{field} は8〜30で指定してください: {prefix}"),
        );
        None
    }

    pub(super) fn range(&mut self, fields: &RangeFields, range: &AddressRange) -> Option<Span> {
        let start = self.address(fields.start, &range.start);
        let end = self.address(fields.end, &range.end);
        let (start, end) = (start?, end?);
        if start > end {
            self.error(
                fields.end,
                format!("{} must not come before {}", fields.end, fields.start),
                format!(
                    "{} は {} 以降のアドレスにしてください",
                    fields.end, fields.start
                ),
            );
            return None;
        }
        Some(Span { start, end })
    }

    /// A DHCP pool: inside the LAN's host addresses, and not holding the router's address.
    pub(super) fn dhcp_pool(
        &mut self,
        pool: Option<&AddressRange>,
        lan: Option<(Subnet, Ipv4Addr)>,
    ) -> Option<Option<Span>> {
        let Some(pool) = pool else {
            return Some(None);
        };
        let span = self.range(&DHCP_POOL, pool)?;
        let (subnet, router) = lan?;
        let mut ok = true;
        for (field, addr) in [(DHCP_POOL.start, span.start), (DHCP_POOL.end, span.end)] {
            if !subnet.is_host(addr) {
                ok = false;
                self.error(
                    field,
                    format!("{field} must be a host address of the LAN {subnet}"),
                    format!("{field} はLAN {subnet} のホストアドレスにしてください"),
                );
            }
        }
        if span.contains(router) {
            ok = false;
            self.router_in(DHCP_POOL.whole, router);
        }
        ok.then_some(Some(span))
    }

    pub(super) fn router_in(&mut self, field: &'static str, router: Ipv4Addr) {
        self.error(
            field,
            format!("{field} must not contain the router's LAN address {router}"),
            format!("{field} にルータのLANアドレス {router} を含めないでください"),
        );
    }

    /// An IPv4 address or a host name of letters, digits and hyphens.
    pub(super) fn ntp_server(&mut self, value: Option<&str>) {
        let Some(value) = value else { return };
        if value.parse::<Ipv4Addr>().is_ok() {
            self.address("ntp_server", value);
            return;
        }
        let label = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let host = value.len() <= 253
            && value.split('.').all(label)
            && value
                .rsplit('.')
                .next()
                .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
        if !host {
            self.error(
                "ntp_server",
                format!("ntp_server must be an IPv4 address or a host name, not {value:?}"),
                format!("ntp_server にはIPv4アドレスかホスト名を指定してください: {value:?}"),
            );
        }
    }

    pub(super) fn pppoe(&mut self, account: &PppoeAccount) {
        self.text("wan.id", &account.id, 150);
        self.text("wan.password", &account.password, 64);
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(self.errors),
        }
    }
}
