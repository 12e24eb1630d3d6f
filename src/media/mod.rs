//! Evidence files: the media folder or object store they live in, and the signed, expiring links through
//! which a player or viewer fetches them without a bearer token.
//!
//! May use: `store`, `secrets`, `domain`.

pub mod describe;
pub mod folder;
pub mod frames;
pub mod import;
pub mod link;
pub mod objects;

pub use describe::describe;
pub use folder::{MediaFolder, Received, Staged};
pub use link::{LinkError, LinkKey, Purpose, SignedLink};
pub use objects::{Objects, Placement};

/// Uploads larger than this are refused unless the server is told otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 200 * 1024 * 1024;

pub(crate) use crate::domain::text::hex;
