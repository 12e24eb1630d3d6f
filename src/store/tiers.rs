//! How a search is answered on either database depends on how many learners match.

/// Where the ways of answering a search change, in matching learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiers {
    /// Up to this many, their sessions are looked up and sorted.
    pub few: i64,
    /// Up to this many, the list is read keeping the rows of learners the index found;
    /// above it, each row read is tested itself (gathering that many would cost more).
    pub several: i64,
}

impl Default for Tiers {
    fn default() -> Self {
        Self {
            few: 2_000,
            several: 20_000,
        }
    }
}
