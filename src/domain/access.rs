//! Who may see and decide what. Admins and the provider's service account see every
//! course; a reviewer sees only the courses granted to them, read-only or to review. What a
//! caller may not see is answered exactly as if it did not exist.

use super::{Reviewer, Role};
use crate::domain::words::Word;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;

/// What a course grant allows.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Access {
    /// Sees sessions, evidence and reports; cannot decide.
    Read,
    /// Also passes and fails.
    Review,
}

impl Access {
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Read, Self::Review]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub course_id: String,
    pub access: Access,
}

/// The courses a listing may include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseScope {
    All,
    Only(Vec<String>),
}

impl CourseScope {
    pub fn includes(&self, course: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(courses) => courses.iter().any(|c| c == course),
        }
    }
}

/// Why a caller may not act on a course they asked about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Outside their grants: to them it does not exist.
    #[error("not found")]
    Hidden,
    #[error("you have read-only access to course {0}; ask an admin for a review grant")]
    ReadOnly(String),
    #[error("the {0} account cannot pass or fail sessions")]
    CannotDecide(&'static str),
    #[error("only an admin may do this")]
    NotAdmin,
}

/// A caller with their grants: what every permission question is asked of.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub reviewer: Reviewer,
    grants: BTreeMap<String, Access>,
}

impl Actor {
    pub fn new(reviewer: Reviewer, grants: impl IntoIterator<Item = Grant>) -> Self {
        let grants = grants
            .into_iter()
            .map(|g| (g.course_id, g.access))
            .collect();
        Self { reviewer, grants }
    }

    fn sees_every_course(&self) -> bool {
        matches!(self.reviewer.role, Role::Admin | Role::Service)
    }

    /// `None`: the course is hidden from this caller.
    pub fn access(&self, course: &str) -> Option<Access> {
        match self.reviewer.role {
            Role::Admin => Some(Access::Review),
            Role::Service => Some(Access::Read),
            Role::Reviewer => self.grants.get(course).copied(),
        }
    }

    pub fn scope(&self) -> CourseScope {
        if self.sees_every_course() {
            CourseScope::All
        } else {
            CourseScope::Only(self.grants.keys().cloned().collect())
        }
    }

    pub fn grants(&self) -> Vec<Grant> {
        self.grants
            .iter()
            .map(|(course_id, &access)| Grant {
                course_id: course_id.clone(),
                access,
            })
            .collect()
    }

    pub fn may_see(&self, course: &str) -> Result<(), Refusal> {
        self.access(course).map(|_| ()).ok_or(Refusal::Hidden)
    }

    /// Passing, failing and resending a decision to the LMS.
    pub fn may_decide(&self, course: &str) -> Result<(), Refusal> {
        if self.reviewer.role == Role::Service {
            // Checked first so the service account learns why, not "not found".
            return Err(Refusal::CannotDecide("service"));
        }
        match self.access(course) {
            None => Err(Refusal::Hidden),
            Some(Access::Read) => Err(Refusal::ReadOnly(course.to_owned())),
            Some(Access::Review) => Ok(()),
        }
    }

    pub fn may_add_evidence(&self, course: &str) -> Result<(), Refusal> {
        self.may_see(course)?;
        if self.reviewer.role.may_add_evidence() {
            Ok(())
        } else {
            Err(Refusal::NotAdmin)
        }
    }
}

/// A bearer token as stored: whose it is and until when it works.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub reviewer: Reviewer,
    pub grants: Vec<Grant>,
    pub revoked: bool,
    pub expires: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("unknown or revoked token")]
    Unknown,
    #[error("this token expired on {0}; ask an admin for a new one (proctor-review token add)")]
    Expired(String),
}

/// Who a presented token speaks for, now.
pub fn authenticate(
    record: Option<TokenRecord>,
    now: OffsetDateTime,
) -> Result<Actor, TokenRefusal> {
    let record = record.ok_or(TokenRefusal::Unknown)?;
    if record.revoked {
        return Err(TokenRefusal::Unknown);
    }
    if let Some(expires) = record.expires
        && expires <= now
    {
        return Err(TokenRefusal::Expired(super::text::utc_minute(expires)));
    }
    Ok(Actor::new(record.reviewer, record.grants))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn who(role: Role, grants: &[(&str, Access)]) -> Actor {
        Actor::new(
            Reviewer {
                id: 1,
                username: "ada".into(),
                email: "ada@example.edu".into(),
                full_name: "Ada".into(),
                role,
            },
            grants.iter().map(|(c, a)| Grant {
                course_id: (*c).into(),
                access: *a,
            }),
        )
    }

    #[test]
    fn a_reviewer_sees_and_decides_only_where_granted() {
        let a = who(
            Role::Reviewer,
            &[("A", Access::Review), ("B", Access::Read)],
        );
        assert_eq!(a.may_decide("A"), Ok(()));
        assert_eq!(a.may_decide("B"), Err(Refusal::ReadOnly("B".into())));
        assert_eq!(a.may_see("B"), Ok(()));
        assert_eq!(a.may_see("C"), Err(Refusal::Hidden));
        assert_eq!(a.may_decide("C"), Err(Refusal::Hidden));
        assert_eq!(a.scope(), CourseScope::Only(vec!["A".into(), "B".into()]));
        assert!(!a.scope().includes("C"));
    }

    #[test]
    fn admins_see_everything_and_the_service_account_never_decides() {
        let admin = who(Role::Admin, &[]);
        assert_eq!(admin.scope(), CourseScope::All);
        assert_eq!(admin.may_decide("anything"), Ok(()));
        let service = who(Role::Service, &[]);
        assert_eq!(service.may_see("X"), Ok(()));
        assert_eq!(
            service.may_decide("X"),
            Err(Refusal::CannotDecide("service"))
        );
        assert_eq!(service.may_add_evidence("X"), Ok(()));
        let reviewer = who(Role::Reviewer, &[("X", Access::Review)]);
        assert_eq!(reviewer.may_add_evidence("X"), Err(Refusal::NotAdmin));
        assert_eq!(reviewer.may_add_evidence("Y"), Err(Refusal::Hidden));
    }

    #[test]
    fn expired_and_revoked_tokens_are_refused_with_different_words() {
        let now = datetime!(2026-11-26 12:00 UTC);
        let record = |revoked, expires| TokenRecord {
            reviewer: who(Role::Reviewer, &[]).reviewer,
            grants: vec![],
            revoked,
            expires,
        };
        assert!(authenticate(Some(record(false, None)), now).is_ok());
        assert!(authenticate(Some(record(false, Some(now + time::Duration::SECOND))), now).is_ok());
        assert_eq!(
            authenticate(Some(record(false, Some(now))), now),
            Err(TokenRefusal::Expired("2026-11-26 12:00 UTC".into()))
        );
        assert_eq!(
            authenticate(Some(record(true, None)), now),
            Err(TokenRefusal::Unknown)
        );
        assert_eq!(authenticate(None, now), Err(TokenRefusal::Unknown));
    }
}
