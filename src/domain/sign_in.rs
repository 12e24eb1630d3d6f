//! Signing in with the institution's identity provider: which reviewer a verified identity
//! is, and whether they may have a token. The provider proves who the person is (an ID
//! token the server has checked); these rules decide what that is worth here.

use super::{Reviewer, Role};

/// What a checked ID token says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The claim the server matches reviewers by (normally `email`).
    pub email: Option<String>,
    /// `email_verified`, where the provider says.
    pub email_verified: Option<bool>,
}

/// A reviewer an email matched, with how their tokens stand.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub reviewer: Reviewer,
    /// Tokens an admin revoked.
    pub revoked: u64,
    /// Tokens not revoked (expired ones included).
    pub unrevoked: u64,
}

/// Why a signed-in person gets no token. Each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the identity provider did not give an email address for you; ask your proctor-review administrator which claim this server matches"
    )]
    NoEmail,
    #[error(
        "the identity provider has not verified your email address {0}; verify it there, then sign in again"
    )]
    Unverified(String),
    #[error(
        "{0} is not a reviewer on this server; ask your proctor-review administrator to add you (proctor-review reviewer add --email {0} --course …)"
    )]
    Unknown(String),
    #[error(
        "{0} belongs to more than one reviewer on this server; ask your proctor-review administrator to give each reviewer their own address"
    )]
    Ambiguous(String),
    #[error("{0} is a service account, which signs in with its token only")]
    Service(String),
    #[error("your access to this server was revoked; ask your proctor-review administrator")]
    Revoked,
}

/// The reviewer `identity` signs in as, if any. Matching is by the verified address,
/// case-insensitively; a reviewer whose every token an admin revoked (`reviewer revoke`)
/// stays out until an admin issues one again (`token add`).
pub fn choose(identity: &Identity, candidates: Vec<Candidate>) -> Result<Reviewer, Refusal> {
    let email = identity
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or(Refusal::NoEmail)?;
    if identity.email_verified == Some(false) {
        return Err(Refusal::Unverified(email.to_owned()));
    }
    let mut found: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| c.reviewer.email.trim().eq_ignore_ascii_case(email))
        .collect();
    let c = match found.len() {
        0 => return Err(Refusal::Unknown(email.to_owned())),
        1 => found.remove(0),
        _ => return Err(Refusal::Ambiguous(email.to_owned())),
    };
    if c.reviewer.role == Role::Service {
        return Err(Refusal::Service(email.to_owned()));
    }
    if c.revoked > 0 && c.unrevoked == 0 {
        return Err(Refusal::Revoked);
    }
    Ok(c.reviewer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(email: &str, role: Role, revoked: u64, unrevoked: u64) -> Candidate {
        Candidate {
            reviewer: Reviewer {
                id: 1,
                username: "ada".into(),
                email: email.into(),
                full_name: "Ada".into(),
                role,
            },
            revoked,
            unrevoked,
        }
    }

    fn who(email: &str, verified: Option<bool>) -> Identity {
        Identity {
            email: Some(email.into()),
            email_verified: verified,
        }
    }

    #[test]
    fn a_verified_address_matches_its_reviewer() {
        let ada = || vec![candidate("Ada@Example.edu", Role::Reviewer, 0, 0)];
        assert_eq!(
            choose(&who("ada@example.edu", Some(true)), ada())
                .unwrap()
                .id,
            1
        );
        // Never signed in yet (pre-authorised), or signed in before: both fine.
        let back = vec![candidate("ada@example.edu", Role::Admin, 1, 1)];
        assert!(choose(&who("ada@example.edu", None), back).is_ok());
    }

    #[test]
    fn everything_else_is_refused_with_what_to_do() {
        let ada = || vec![candidate("ada@example.edu", Role::Reviewer, 0, 1)];
        let none = Identity {
            email: None,
            email_verified: None,
        };
        assert_eq!(choose(&none, ada()), Err(Refusal::NoEmail));
        assert!(matches!(
            choose(&who("ada@example.edu", Some(false)), ada()),
            Err(Refusal::Unverified(_))
        ));
        let unknown = choose(&who("zed@example.edu", Some(true)), ada()).unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("reviewer add --email zed@example.edu")
        );
        let two = vec![
            candidate("ada@example.edu", Role::Reviewer, 0, 0),
            candidate("ada@example.edu", Role::Admin, 0, 0),
        ];
        assert!(matches!(
            choose(&who("ada@example.edu", Some(true)), two),
            Err(Refusal::Ambiguous(_))
        ));
        let service = vec![candidate("ada@example.edu", Role::Service, 0, 1)];
        assert!(matches!(
            choose(&who("ada@example.edu", Some(true)), service),
            Err(Refusal::Service(_))
        ));
        let revoked = vec![candidate("ada@example.edu", Role::Reviewer, 2, 0)];
        assert_eq!(
            choose(&who("ada@example.edu", Some(true)), revoked),
            Err(Refusal::Revoked)
        );
    }
}
