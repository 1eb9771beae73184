//! What makes a name acceptable for contractors, users and tokens.

/// A field of a request that cannot be accepted, with the reason in English and Japanese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message_en: String,
    pub message_ja: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, en: String, ja: String) -> Self {
        Self {
            field,
            message_en: en,
            message_ja: ja,
        }
    }
}

/// The longest free text the API keeps of any one JSON string, in characters: a bound for the
/// fields that have no narrower limit of their own (issue 15).
pub const MAX_TEXT_CHARS: usize = 4_000;

/// The longest text of a failure report, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// The longest address (R9.2 install address), in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;

/// The longest device serial (R7.1), in characters.
pub const MAX_SERIAL_CHARS: usize = 64;

/// Checks that an optional free text is at most `max` characters.
///
/// # Errors
/// When it is longer.
pub fn bounded(field: &'static str, value: Option<&str>, max: usize) -> Result<(), FieldError> {
    match value {
        Some(v) if v.chars().count() > max => Err(FieldError::new(
            field,
            format!("{field} must be at most {max} characters"),
            format!("{field} は{max}文字以内で入力してください"),
        )),
        _ => Ok(()),
    }
}

/// A free-text name (contractor name, display name, token label): trimmed, 1 to `max` characters,
/// no control characters. Returns the trimmed text.
///
/// # Errors
/// When the text is blank, too long or holds a control character.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(
            field,
            format!("{field} must not be blank"),
            format!("{field} を入力してください"),
        ));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("{field} must be at most {max} characters"),
            format!("{field} は{max}文字以内で入力してください"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("{field} must not contain control characters"),
            format!("{field} に制御文字は使えません"),
        ));
    }
    Ok(value.to_owned())
}

/// A username: 3 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit. Lower case only, so
/// that two accounts cannot differ by case alone.
///
/// # Errors
/// When the username does not have that form.
pub fn username(value: &str) -> Result<String, FieldError> {
    let ok = (3..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && value.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            "username",
            "username must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit".into(),
            "ユーザー名は英小文字・数字・「.」「_」「-」の3〜64文字で、英小文字か数字で始めてください".into(),
        ))
    }
}

/// A console password: 10 to 128 characters, not only spaces. Length is what makes a password
/// hard to guess; no composition rules (NIST SP 800-63B).
///
/// # Errors
/// When the password is too short, too long or blank.
pub fn password(value: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if value.trim().is_empty() || n < 10 {
        return Err(FieldError::new(
            "password",
            "the password must be at least 10 characters".into(),
            "パスワードは10文字以上にしてください".into(),
        ));
    }
    if n > 128 {
        return Err(FieldError::new(
            "password",
            "the password must be at most 128 characters".into(),
            "パスワードは128文字以内にしてください".into(),
        ));
    }
    Ok(())
}

/// A user's own console password replacing `current`: the rules of [`password`], and not the
/// current one again, so that a temporary password an operator handed out (or the first
/// start printed) is really replaced rather than confirmed.
///
/// # Errors
/// As [`password`] (field `password`); field `new` when it is the current one.
pub fn own_password(current: &str, new: &str) -> Result<(), FieldError> {
    password(new)?;
    if new == current {
        return Err(FieldError::new(
            "new",
            "the new password must differ from the current one".into(),
            "新しいパスワードは現在のパスワードと別のものにしてください".into(),
        ));
    }
    Ok(())
}

/// The longest billing e-mail address, in characters (RFC 5321's limit on a path).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The longest contact person's name and phone number of a contractor's record, in characters.
pub const MAX_CONTACT_CHARS: usize = 100;

/// The longest phone number of a contractor's record, in characters.
pub const MAX_PHONE_CHARS: usize = 30;

/// An optional field of a record: blank (or only spaces) is "not set", anything else is checked
/// by `check`.
///
/// # Errors
/// Whatever `check` returns.
pub fn optional(
    value: &str,
    check: impl FnOnce(&str) -> Result<String, FieldError>,
) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else {
        check(value).map(Some)
    }
}

/// A Japanese postal code, `123-4567` or `1234567` (full-width digits and hyphen accepted);
/// returns it as `123-4567`.
///
/// # Errors
/// When it is not seven digits, with the hyphen after the third if any.
///
/// # Example
///
/// ```
/// use mpc_domain::account::postal_code;
///
/// assert_eq!(postal_code("１００ー０００１").unwrap(), "100-0001");
/// assert_eq!(postal_code("1000001").unwrap(), "100-0001");
/// assert!(postal_code("100-001").is_err());
/// ```
pub fn postal_code(value: &str) -> Result<String, FieldError> {
    let half: String = value
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            'ー' | '－' | '‐' | '−' => '-',
            c => c,
        })
        .collect();
    let digits: String = half.chars().filter(char::is_ascii_digit).collect();
    let shaped = half.len() == 7 || (half.len() == 8 && half.as_bytes()[3] == b'-');
    if digits.len() == 7 && shaped && half.chars().all(|c| c.is_ascii_digit() || c == '-') {
        Ok(format!("{}-{}", &digits[..3], &digits[3..]))
    } else {
        Err(FieldError::new(
            "postal_code",
            "postal_code must be seven digits, as 123-4567".into(),
            "郵便番号は「123-4567」の形の7桁で入力してください".into(),
        ))
    }
}

/// A phone number: digits with `+`, `-`, spaces and parentheses, 1 to 30 characters.
///
/// # Errors
/// When it holds anything else, no digit, or is too long.
pub fn phone(value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let ok = value.chars().count() <= MAX_PHONE_CHARS
        && value.chars().any(|c| c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || "+-() ".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            "phone",
            format!(
                "phone must be digits with '+', '-', spaces or parentheses, at most {MAX_PHONE_CHARS} characters"
            ),
            format!(
                "電話番号は数字と「+」「-」「( )」で{MAX_PHONE_CHARS}文字以内で入力してください"
            ),
        ))
    }
}

/// An e-mail address of the shape `local@domain.tld`: at most 254 characters, a local part of
/// at most 64, no spaces or control characters, one `@`, and a domain of dot-separated labels
/// of letters, digits and hyphens. Deliverability is not checked.
///
/// # Errors
/// When the address does not have that shape.
///
/// # Example
///
/// ```
/// use mpc_domain::account::email;
///
/// let f = "billing_email";
/// assert_eq!(email(f, " keiri@example.co.jp ").unwrap(), "keiri@example.co.jp");
/// assert!(email(f, "keiri@localhost").is_err());
/// assert!(email(f, "経理@example.jp").is_err());
/// ```
pub fn email(field: &'static str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let ok = value.len() <= MAX_EMAIL_CHARS
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && local
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"@\\\"(),:;<>[]".contains(&b))
                && !local.starts_with('.')
                && !local.ends_with('.')
                && !local.contains("..")
                && domain.contains('.')
                && domain.split('.').all(label_ok)
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{field} must be an e-mail address such as name@example.co.jp, at most {MAX_EMAIL_CHARS} characters"
            ),
            format!(
                "{field} は name@example.co.jp のような{MAX_EMAIL_CHARS}文字以内のメールアドレスで入力してください"
            ),
        ))
    }
}

/// Failed sign-ins one client address may make for one username before it must wait.
pub const FREE_FAILURES_PER_ACCOUNT: i64 = 5;

/// Failed sign-ins one client address may make, whatever the usernames, before it must wait.
pub const FREE_FAILURES_PER_ADDRESS: i64 = 20;

/// The first wait after the free failures, in microseconds (5 seconds); each further failure
/// doubles it.
pub const FIRST_BACKOFF_MICROS: i64 = 5_000_000;

/// The longest wait between tries, in microseconds (15 minutes).
pub const MAX_BACKOFF_MICROS: i64 = 15 * 60 * 1_000_000;

/// A count of failures is forgotten after this long without one, in microseconds (24 hours).
pub const FAILURE_MEMORY_MICROS: i64 = 24 * 3600 * 1_000_000;

/// Failed sign-ins counted against one key (a client address, or an address and a username).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub last_at: i64,
    /// No try is heard from this key before this instant (µs).
    pub blocked_until: Option<i64>,
}

/// The failures of a key after one more at `now` (µs), past ones as stored (`None`: none yet).
///
/// Throttling slows guessing without locking anyone out and without telling who exists: it is
/// keyed by the client's address (and the username typed, known or not), never by the account
/// alone, so tries from one address cannot keep the owner out from another, and an unknown name
/// is counted exactly as a known one. After `free` failures each further one makes the key wait
/// 5 s, 10 s, 20 s … at most [`MAX_BACKOFF_MICROS`]; a day without failures forgets the count.
///
/// # Example
///
/// ```
/// use mpc_domain::account::{Failures, after_failed_sign_in};
///
/// let mut f = None;
/// for now in 0..5 {
///     f = Some(after_failed_sign_in(f, now, 5));
/// }
/// let f = f.unwrap();
/// assert_eq!((f.count, f.blocked_until), (5, Some(4 + 5_000_000)));
/// ```
pub fn after_failed_sign_in(past: Option<Failures>, now: i64, free: i64) -> Failures {
    let count = match past {
        Some(p) if now - p.last_at < FAILURE_MEMORY_MICROS => p.count.saturating_add(1),
        _ => 1,
    };
    let blocked_until = (count >= free).then(|| {
        let doublings = u32::try_from(count - free).unwrap_or(u32::MAX).min(30);
        let wait = FIRST_BACKOFF_MICROS
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF_MICROS);
        now.saturating_add(wait)
    });
    Failures {
        count,
        last_at: now,
        blocked_until,
    }
}

/// How long (µs) a key must still wait at `now`, if at all.
pub fn sign_in_wait(failures: Option<Failures>, now: i64) -> Option<i64> {
    failures
        .and_then(|f| f.blocked_until)
        .filter(|until| now < *until)
        .map(|until| until - now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("name", "  株式会社A ", 10).unwrap(), "株式会社A");
        assert_eq!(text("name", "   ", 10).unwrap_err().field, "name");
        // Ten kana are ten characters, though thirty bytes.
        assert!(text("name", "アイウエオカキクケコ", 10).is_ok());
        assert!(text("name", "アイウエオカキクケコサ", 10).is_err());
        assert!(text("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn an_own_password_follows_the_rules_and_replaces_the_current_one() {
        let temporary = "Ab3dEf7hJk2mNp4qRs5t";
        assert!(own_password(temporary, "correct horse battery").is_ok());
        assert_eq!(own_password(temporary, temporary).unwrap_err().field, "new");
        // The length rule comes first: a short one is short, whatever it equals.
        assert_eq!(
            own_password("short", "short").unwrap_err().field,
            "password"
        );
    }

    #[test]
    fn usernames() {
        for ok in ["abc", "yamada.taro", "op-1", "0ps_team"] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Yamada", "-op", "山田", "a b c", &"x".repeat(65)] {
            assert!(username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn failures_back_off_doubling_to_a_cap_and_are_forgotten_after_a_day() {
        let mut f = None;
        for now in 0..4 {
            f = Some(after_failed_sign_in(f, now, 5));
            assert_eq!(sign_in_wait(f, now), None, "free failure {now}");
        }
        let fifth = after_failed_sign_in(f, 10, 5);
        assert_eq!(sign_in_wait(Some(fifth), 10), Some(5_000_000));
        let sixth = after_failed_sign_in(Some(fifth), 20, 5);
        assert_eq!(sign_in_wait(Some(sixth), 20), Some(10_000_000));
        let mut many = sixth;
        for now in 30..200 {
            many = after_failed_sign_in(Some(many), now, 5);
        }
        assert_eq!(sign_in_wait(Some(many), 199), Some(MAX_BACKOFF_MICROS));
        assert_eq!(sign_in_wait(Some(many), 199 + MAX_BACKOFF_MICROS), None);
        let later = after_failed_sign_in(Some(many), 199 + FAILURE_MEMORY_MICROS, 5);
        assert_eq!((later.count, later.blocked_until), (1, None));
    }

    #[test]
    fn record_fields_are_normalized_or_refused() {
        assert_eq!(optional("  ", phone).unwrap(), None);
        assert_eq!(
            optional(" 03-1234-5678 ", phone).unwrap().as_deref(),
            Some("03-1234-5678")
        );
        assert_eq!(phone("+81 (3) 1234-5678").unwrap(), "+81 (3) 1234-5678");
        assert!(phone("03-1234-5678 内線").is_err());
        assert!(phone("---").is_err());
        assert!(phone(&"1".repeat(MAX_PHONE_CHARS + 1)).is_err());
        assert_eq!(postal_code("100-0001").unwrap(), "100-0001");
        assert!(postal_code("1000-001").is_err());
        assert!(postal_code("10000011").is_err());
        for good in ["a@b.jp", "keiri.tanto+inv@mail.example.co.jp"] {
            assert_eq!(email("billing_email", good).unwrap(), good);
        }
        let longest = format!("{}@{}.jp", "a".repeat(64), "b".repeat(63));
        assert!(email("billing_email", &longest).is_ok());
        let local_too_long = format!("{}@example.jp", "a".repeat(65));
        let too_long = format!("a@{}.jp", vec!["b".repeat(63); 4].join("."));
        for bad in [
            "",
            "a",
            "a@",
            "@b.jp",
            "a@b",
            "a b@c.jp",
            "a@b..jp",
            "a@-b.jp",
            "a@@b.jp",
            ".a@b.jp",
            "a..b@c.jp",
            "a@b_c.jp",
            &local_too_long,
            &too_long,
        ] {
            let e = email("billing_email", bad).unwrap_err();
            assert_eq!(e.field, "billing_email", "{bad}");
        }
    }

    #[test]
    fn passwords_need_length_only() {
        assert!(password("correct horse").is_ok());
        assert!(password("ながいパスワードです12").is_ok());
        assert_eq!(password("short").unwrap_err().field, "password");
        assert!(password("          ").is_err());
        assert!(password(&"x".repeat(129)).is_err());
    }
}
