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
    fast(s.as_bytes()).map(Ok).unwrap_or_else(|| {
        PrimitiveDateTime::parse(s, FORMAT)
            .map(|t| t.assume_utc())
            .map_err(|e| StoreError::failed(format!("bad timestamp '{s}' in database"), e))
    })
}

/// Our own fixed-width text, read by position: reports read millions of these.
fn fast(b: &[u8]) -> Option<OffsetDateTime> {
    if b.len() != 27 || b[4] != b'-' || b[10] != b'T' || b[19] != b'.' || b[26] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = time::Date::from_calendar_date(
        num(0..4)? as i32,
        time::Month::try_from(num(5..7)? as u8).ok()?,
        num(8..10)? as u8,
    )
    .ok()?;
    let t = time::Time::from_hms_micro(
        num(11..13)? as u8,
        num(14..16)? as u8,
        num(17..19)? as u8,
        num(20..26)?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, t).assume_utc())
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

    #[test]
    fn the_fast_reader_agrees_with_the_format_and_refuses_what_it_is_not() {
        for t in [
            datetime!(2026-02-28 23:59:59.999999 UTC),
            datetime!(1999-01-01 00:00 UTC),
            datetime!(2028-02-29 12:34:56.000001 UTC),
        ] {
            let text = to_sql(t);
            assert_eq!(fast(text.as_bytes()), Some(t), "{text}");
            assert_eq!(
                PrimitiveDateTime::parse(&text, FORMAT)
                    .unwrap()
                    .assume_utc(),
                t
            );
        }
        assert_eq!(fast(b"2026-02-30T00:00:00.000000Z"), None);
        assert_eq!(fast(b"2026-1x-01T00:00:00.000000Z"), None);
        assert!(from_sql("yesterday").is_err());
    }
}
