//! proctor-review: a terminal console for reviewing proctored-exam sessions, and the review
//! server it talks to.

pub mod demo;
pub mod domain;
