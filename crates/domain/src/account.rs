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
}
