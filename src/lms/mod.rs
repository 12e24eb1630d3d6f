//! Open edX: we are the proctoring provider its edx-proctoring REST backend talks to, and we
//! deliver every review to its callback. This module is the outbound side (the LMS as a
//! server); the provider API the LMS calls lives in `server/provider.rs`.
//!
//! May use: `store`, `domain`.

pub mod client;
pub mod deliver;
pub mod jwt;
pub mod sync;

pub use client::{LmsError, LmsHttp};
