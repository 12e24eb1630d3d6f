//! Strings from outside (learner names, comments, reasons) may carry terminal escape
//! sequences; a console must never pass them to the terminal.

use std::borrow::Cow;

/// Lower-case hex of bytes: digests, keys, tokens, random ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces control characters (C0, DEL, C1) with U+FFFD and bidi overrides with nothing,
/// keeping everything printable, whatever its script.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_scrub) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|c| !is_bidi_control(*c))
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// Seconds into a recording as `HH:MM:SS`, the way players show them.
pub fn clock(secs: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

fn needs_scrub(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Explicit embedding/override/isolate marks can reorder what follows them on screen
/// ("Trojan Source"); right-to-left names display correctly without them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised_and_scripts_kept() {
        assert_eq!(
            printable("Eve \u{1b}]0;pwned\u{7}"),
            "Eve \u{FFFD}]0;pwned\u{FFFD}"
        );
        assert_eq!(printable("\u{9b}31m"), "\u{FFFD}31m");
        assert_eq!(printable("abc\u{202E}fed"), "abcfed");
        assert!(matches!(printable("محمد 陈静 Zoë"), Cow::Borrowed(_)));
    }
}
