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
    fn passwords_need_length_only() {
        assert!(password("correct horse").is_ok());
        assert!(password("ながいパスワードです12").is_ok());
        assert_eq!(password("short").unwrap_err().field, "password");
        assert!(password("          ").is_err());
        assert!(password(&"x".repeat(129)).is_err());
    }
}
