//! Stored states written as the words they always were (`pending`, `finalized`, …), read back
//! into enums: one text per variant, the same in storage, on the wire and in console links.

/// A text that names no state of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {what} is one of {expected:?}, not {input:?}")]
pub struct UnknownState {
    pub what: &'static str,
    pub input: String,
    pub expected: &'static [&'static str],
}

/// Declares a state enum with its texts: `ALL`, `as_str`, `Display`, `FromStr`,
/// `TryFrom<String>` (for reading a column) and serde as the same texts.
macro_rules! states {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        // Every text is its variant in snake case; said once more for the OpenAPI schema,
        // which does not read the per-variant renames a macro passes on.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every state, in the order of the workflow.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The text it is written as.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::state::UnknownState;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::state::UnknownState {
                        what: $what,
                        input: s.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::state::UnknownState;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}

pub(crate) use states;

#[cfg(test)]
mod tests {
    use crate::invoice::InvoiceStatus;
    use crate::mobile::ThrottleEventKind;
    use crate::request::RequestStatus;
    use crate::sla::ClaimStatus;

    /// The texts, serde and `FromStr` agree, and are the words stored before the enums.
    #[test]
    fn states_are_written_as_they_always_were() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};

        fn check<T>(all: &[T], texts: &[&str])
        where
            T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display,
            T: std::str::FromStr + serde::de::DeserializeOwned,
            <T as std::str::FromStr>::Err: std::fmt::Debug,
        {
            assert_eq!(all.len(), texts.len());
            for (state, text) in all.iter().zip(texts) {
                assert_eq!(state.to_string(), *text);
                assert_eq!(text.parse::<T>().unwrap(), *state);
                let de: StrDeserializer<'_, Error> = text.into_deserializer();
                assert_eq!(
                    <T as serde::Deserialize>::deserialize(de),
                    Ok(*state),
                    "serde and text agree"
                );
            }
            assert!("unknown".parse::<T>().is_err());
        }
        check(
            &RequestStatus::ALL,
            &["pending", "accepted", "rejected", "withdrawn"],
        );
        check(&ClaimStatus::ALL, &["pending", "approved", "refused"]);
        check(&InvoiceStatus::ALL, &["draft", "finalized"]);
        check(
            &ThrottleEventKind::ALL,
            &["throttle", "withdrawn", "manual_throttle", "manual_release"],
        );
    }
}
