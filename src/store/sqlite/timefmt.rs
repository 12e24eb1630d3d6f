//! Fixed-width UTC timestamps, so text order is time order in SQL.

use crate::store::StoreError;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn to_sql(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_else(|_| String::from("0000-01-01T00:00:00.000000Z"))
}

pub fn from_sql(s: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(s, FORMAT)
        .map(|t| t.assume_utc())
        .map_err(|e| StoreError::Backend(format!("bad timestamp '{s}' in database: {e}")))
}

pub fn opt_from_sql(s: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    s.as_deref().map(from_sql).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_and_sorts_as_text() {
        let a = datetime!(2026-11-09 08:00:00.5 UTC);
        let b = datetime!(2026-11-09 08:00:01 UTC);
        assert_eq!(from_sql(&to_sql(a)).unwrap(), a);
        assert!(to_sql(a) < to_sql(b));
        assert_eq!(to_sql(b), "2026-11-09T08:00:01.000000Z");
    }
}
