//! The store, area by area. Each trait's provided methods are its transactions, written
//! once over [`Backend`](super::backend::Backend); the few without a body are what a
//! backend answers its own way (sign-in lookups in one round trip, search, its schema).

mod accounts;
mod evidence;
mod jobs;
mod lms;
mod operations;
mod review;

pub use accounts::Accounts;
pub use evidence::Evidence;
pub use jobs::Jobs;
pub use lms::Lms;
pub use operations::Operations;
pub use review::Review;
