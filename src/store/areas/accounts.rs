//! Reviewers, their course grants and their sign-in tokens.

use crate::domain::access::{Grant, TokenRecord};
use crate::domain::second_review::SecondReview;
use crate::domain::{Reviewer, Role};
use crate::run;
use crate::store::accounts as tx;
use crate::store::backend::Backend;
use crate::store::{ReviewerListing, StoreError};
use std::future::Future;
use time::OffsetDateTime;

pub trait Accounts: Backend {
    /// The token with this SHA-256, whoever's it is and whatever its state.
    fn token(
        &self,
        hash: String,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;

    /// The reviewer with this id while they hold a token that is neither revoked nor
    /// expired at `now`; `None` once they may no longer sign in.
    fn active_reviewer(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<Reviewer>, StoreError>> + Send;

    fn grants(
        &self,
        reviewer_id: i64,
    ) -> impl Future<Output = Result<Vec<Grant>, StoreError>> + Send;

    fn create_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
        role: Role,
    ) -> impl Future<Output = Result<Reviewer, StoreError>> + Send {
        self.transact(run!(|t| tx::create_reviewer(
            t, &username, &email, &full_name, role
        )))
    }

    /// Creates the reviewer if the username is new, else returns the existing one.
    fn ensure_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
    ) -> impl Future<Output = Result<Reviewer, StoreError>> + Send {
        self.transact(run!(|t| tx::ensure_reviewer(
            t, &username, &email, &full_name
        )))
    }

    fn add_token(
        &self,
        reviewer_id: i64,
        hash: String,
        expires: Option<OffsetDateTime>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| tx::add_token(t, reviewer_id, &hash, expires)))
    }

    fn reviewer_by_username(
        &self,
        username: String,
    ) -> impl Future<Output = Result<Option<Reviewer>, StoreError>> + Send {
        self.read(run!(|t| tx::reviewer_by_username(t, &username)))
    }

    /// Every reviewer with their grants and tokens, by username.
    fn reviewers(&self) -> impl Future<Output = Result<Vec<ReviewerListing>, StoreError>> + Send {
        self.read(run!(|t| tx::reviewers(t)))
    }

    /// Grants (or changes) a reviewer's access to a course.
    fn grant(
        &self,
        username: String,
        grant: Grant,
    ) -> impl Future<Output = Result<Reviewer, StoreError>> + Send {
        self.transact(run!(|t| tx::grant(t, &username, &grant)))
    }

    /// The course's rule for a second reviewer.
    fn second_review(
        &self,
        course: String,
    ) -> impl Future<Output = Result<SecondReview, StoreError>> + Send {
        self.read(run!(|t| tx::second_review(t, &course)))
    }

    /// Sets whether a course's decisions need a second reviewer.
    fn set_second_review(
        &self,
        course: String,
        rule: SecondReview,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| tx::set_second_review(t, &course, rule)))
    }

    /// Takes a course grant away; `false` if there was none.
    fn withdraw(
        &self,
        username: String,
        course: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.transact(run!(|t| tx::withdraw(t, &username, &course)))
    }

    /// Revokes every token of a reviewer; how many were still valid.
    /// Reviewers a person signing in with `email` may be.
    fn sign_in_candidates(
        &self,
        email: String,
    ) -> impl Future<Output = Result<Vec<crate::domain::sign_in::Candidate>, StoreError>> + Send
    {
        self.read(run!(|t| tx::sign_in_candidates(t, &email)))
    }

    fn revoke_tokens(
        &self,
        username: String,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.transact(run!(|t| tx::revoke_tokens(t, &username)))
    }

    /// Revokes one token by its id (the start of its hash); how many were still valid.
    fn revoke_token(&self, id: String) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.transact(run!(|t| tx::revoke_token(t, &id)))
    }
}
