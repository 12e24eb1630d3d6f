//! Enums stored and sent as words. Each derives its words once with strum (`IntoStaticStr`
//! for the word, `VariantArray` for every member, `serialize_all` beside serde's
//! `rename_all`); [`Word`] gives every such enum `as_str` and `parse`, and [`parse`] the
//! error that says which words there are.

use strum::VariantArray;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{word}' (expected one of: {known})")]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
    pub known: String,
}

/// An enum with a word for each member.
pub trait Word: Copy + VariantArray + Into<&'static str> + 'static {
    /// As stored and sent.
    fn as_str(self) -> &'static str {
        self.into()
    }

    /// The member whose word is `s`, if any.
    fn parse(s: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|v| v.as_str() == s)
    }
}

impl<T: Copy + VariantArray + Into<&'static str> + 'static> Word for T {}

/// `s` is no word of `T`: an error naming `what` and the words there are.
pub fn unknown<T: Word>(what: &'static str, s: &str) -> UnknownWord {
    UnknownWord {
        what,
        word: s.chars().take(40).collect(),
        known: T::VARIANTS
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Access;
    use crate::domain::evidence::{ContentType, MediaKind, OnboardingStatus, ScanResult};
    use crate::domain::lms::{CallbackStatus, LmsState};
    use crate::domain::model::{Role, ViolationKind};
    use crate::domain::{AttemptStatus, JobKind, JobState, ReviewStatus, Verdict};
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// serde's name and strum's word are declared apart; they must be the same word.
    fn agrees<T: Word + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>() {
        for &v in T::VARIANTS {
            let json = format!("\"{}\"", v.as_str());
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            assert_eq!(T::parse(v.as_str()), Some(v));
        }
        assert_eq!(T::parse("no such word"), None);
    }

    #[test]
    fn every_word_is_the_one_serde_writes() {
        agrees::<JobKind>();
        agrees::<JobState>();
        agrees::<MediaKind>();
        agrees::<ScanResult>();
        agrees::<OnboardingStatus>();
        agrees::<ContentType>();
        agrees::<AttemptStatus>();
        agrees::<ReviewStatus>();
        agrees::<Role>();
        agrees::<ViolationKind>();
        agrees::<CallbackStatus>();
        agrees::<LmsState>();
        agrees::<Access>();
        agrees::<Verdict>();
    }

    #[test]
    fn an_unknown_word_names_the_known_ones() {
        let e = unknown::<ScanResult>("scan result", "maybe");
        assert_eq!(
            e.to_string(),
            "unknown scan result 'maybe' (expected one of: match, no_match, unreadable)"
        );
    }
}
