//! What makes a name acceptable for contractors, users and tokens.

/// A field of a request that cannot be accepted, with the reason in English and Japanese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message_en: String,
    pub message_ja: String,
}

impl FieldError {
    fn new(field: &'static str, en: String, ja: String) -> Self {
        Self {
            field,
            message_en: en,
            message_ja: ja,
        }
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

/// Consecutive failed sign-ins after which an account is locked.
pub const LOCKOUT_AFTER_FAILURES: i64 = 5;

/// How long a lock lasts once [`LOCKOUT_AFTER_FAILURES`] is reached, in microseconds (15 min).
pub const LOCKOUT_MICROS: i64 = 15 * 60 * 1_000_000;

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

/// The state of an account after one more failed sign-in at `now` (µs): the new count of
/// consecutive failures and, once the count reaches [`LOCKOUT_AFTER_FAILURES`], the instant
/// until which the account is locked. Each failure past the limit locks it anew.
pub fn after_failed_sign_in(failures: i64, now: i64) -> (i64, Option<i64>) {
    let failures = failures + 1;
    let locked_until = (failures >= LOCKOUT_AFTER_FAILURES).then_some(now + LOCKOUT_MICROS);
    (failures, locked_until)
}

/// Whether an account locked until `locked_until` is still locked at `now`.
pub fn is_locked(locked_until: Option<i64>, now: i64) -> bool {
    locked_until.is_some_and(|until| now < until)
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
    fn passwords_need_length_only() {
        assert!(password("correct horse").is_ok());
        assert!(password("ながいパスワードです12").is_ok());
        assert_eq!(password("short").unwrap_err().field, "password");
        assert!(password("          ").is_err());
        assert!(password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let now = 1_000_000;
        let mut failures = 0;
        for _ in 0..4 {
            let (n, until) = after_failed_sign_in(failures, now);
            assert_eq!(until, None);
            failures = n;
        }
        let (n, until) = after_failed_sign_in(failures, now);
        assert_eq!(n, 5);
        // 15 min = 900 s = 900,000,000 µs after now.
        assert_eq!(until, Some(now + 900_000_000));
        assert!(is_locked(until, now + 899_999_999));
        assert!(!is_locked(until, now + 900_000_000));
        assert!(!is_locked(None, now));
    }
}
