//! How values read on screen.

use crate::domain::text::{columns, printable, take_columns};
use std::borrow::Cow;
use time::OffsetDateTime;
use time::macros::format_description;

/// Every string that came from outside goes through here before it is drawn.
pub fn safe(s: &str) -> Cow<'_, str> {
    printable(s)
}

pub fn when(t: Option<OffsetDateTime>) -> String {
    t.and_then(|t| {
        t.format(format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .ok()
    })
    .unwrap_or_else(|| "—".into())
}

pub fn when_short(t: Option<OffsetDateTime>) -> String {
    t.and_then(|t| {
        t.format(format_description!("[month]-[day] [hour]:[minute]"))
            .ok()
    })
    .unwrap_or_else(|| "—".into())
}

pub fn duration(secs: Option<i64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        Some(s) => format!("{}m{:02}s", s / 60, s % 60),
    }
}

/// Seconds into the recording, as the player shows them.
pub fn offset(secs: i64) -> String {
    crate::domain::text::clock(secs)
}

/// Cuts `s` to at most `width` terminal columns, marking the cut with an ellipsis; never
/// inside a grapheme cluster.
pub fn fit(s: &str, width: usize) -> String {
    if columns(s) <= width {
        return s.to_owned();
    }
    let mut out = take_columns(s, width.saturating_sub(1)).to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_counts_columns_not_bytes() {
        assert_eq!(fit("陈静陈静", 5), "陈静…");
        assert_eq!(fit("Zoë", 3), "Zoë");
        assert_eq!(fit("Zoe\u{301}y", 3), "Zo…");
        assert_eq!(duration(Some(4080)), "1h08m");
        assert_eq!(duration(Some(125)), "2m05s");
        assert_eq!(offset(3725), "01:02:05");
    }
}
