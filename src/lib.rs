//! proctor-review: a terminal console for reviewing proctored-exam sessions, and the review
//! server it talks to.

pub mod api;
pub mod client;
pub mod config;
pub mod console;
pub mod demo;
pub mod domain;
pub mod embedded;
pub mod export;
pub mod fsutil;
pub mod jobs;
pub mod lms;
pub mod logsafe;
pub mod media;
pub mod random;
pub mod report;
pub mod request_id;
pub mod review;
pub mod secrets;
pub mod server;
pub mod store;
pub mod tls;
