//! Strings from outside (learner names, comments, reasons) may carry terminal escape
//! sequences; a console must never pass them to the terminal.

use std::borrow::Cow;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Lower-case hex of bytes: digests, keys, tokens, random ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes a string from outside safe to draw: control characters (C0, DEL, C1) become
/// their visible pictures (␛, ␇, …); line and paragraph separators become spaces; invisible format characters
/// (Unicode category Cf: bidi overrides, soft hyphens, prepended concatenation marks, tags,
/// …) are dropped, except the joiners (ZWJ, ZWNJ) that Arabic and Indic scripts need. Then
/// every grapheme cluster is made to measure the same whether a terminal counts it whole
/// or codepoint by codepoint: emoji sequences that disagree lose their joiners, variation
/// selectors and skin tones (👨‍👩‍👧 shows as 👨👩👧), so nothing drawn after them shifts;
/// flags show as their two letters.
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_control()) {
        return Cow::Borrowed(s);
    }
    let scrubbed: String = s
        .chars()
        .filter(|c| !is_hidden_format(*c))
        .map(|c| match c {
            '\u{2028}' | '\u{2029}' => ' ',
            // Regional indicators (a flag is a pair): terminals measure them 1 or 2 cells
            // each, and a pair 2 or 4, so what follows lands in different cells; their
            // letters measure the same everywhere (🇺🇳 shows as UN).
            '\u{1F1E6}'..='\u{1F1FF}' => char::from(b'A' + (c as u32 - 0x1F1E6) as u8),
            c if c.is_control() => control_picture(c),
            c => c,
        })
        .collect();
    let out: String = scrubbed.graphemes(true).map(steady_cluster).collect();
    if out == s {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(out)
    }
}

/// A control character made visible: ␛ for ESC, ␇ for BEL, ␡ for DEL, ␦ for the C1
/// controls — so a reviewer sees that a name carried one, and the terminal does nothing.
fn control_picture(c: char) -> char {
    match c as u32 {
        n @ 0..=0x1F => char::from_u32(0x2400 + n).unwrap_or('\u{2426}'),
        0x7F => '\u{2421}',
        _ => '\u{2426}',
    }
}

/// Terminal columns `s` takes, counted the way the console draws it (by grapheme cluster).
pub fn columns(s: &str) -> usize {
    s.graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// `s` cut at a grapheme-cluster boundary to at most `width` columns.
pub fn take_columns(s: &str, width: usize) -> &str {
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = g.width();
        if used + w > width {
            return &s[..i];
        }
        used += w;
    }
    s
}

/// The end of `s` at a grapheme-cluster boundary, at most `width` columns.
pub fn last_columns(s: &str, width: usize) -> &str {
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true).rev() {
        let w = g.width();
        if used + w > width {
            return &s[i + g.len()..];
        }
        used += w;
    }
    s
}

fn codepoint_width(s: &str) -> usize {
    s.chars()
        .map(|c| UnicodeWidthChar::width(c).unwrap_or(0))
        .sum()
}

fn steady_cluster(g: &str) -> Cow<'_, str> {
    if g.width() == codepoint_width(g) {
        return Cow::Borrowed(g);
    }
    let plain: String = g
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}'
            )
        })
        .collect();
    if plain
        .graphemes(true)
        .all(|p| p.width() == codepoint_width(p))
    {
        Cow::Owned(plain)
    } else {
        Cow::Borrowed("\u{2426}")
    }
}

/// Unicode category Cf (format characters), which draw nothing yet can reorder, join or
/// hide what follows — less ZWNJ and ZWJ, which scripts need to spell words.
fn is_hidden_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'
        | '\u{200E}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}'
        | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// The form names, usernames and emails are searched in, and queries are folded into:
/// compatibility-decomposed (NFKD), combining marks dropped, lower case, final sigma as
/// sigma. So `luisa` finds Luísa, `muller` Müller, `ΣΩΚΡΑΤΗΣ` Σωκράτης; letters are never
/// transliterated (`ivanov` does not find Иванов).
pub fn search_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let bare: String = s.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    bare.to_lowercase()
        .chars()
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// A moment as a person reads it in a message: `2026-11-26 12:00 UTC`.
/// An attempt code as edx-proctoring writes them (an upper-case UUID), if `query` is one
/// in any case with its hyphens: a reviewer pastes it from a learner's email or the LMS.
pub fn attempt_code(query: &str) -> Option<String> {
    let q = query.trim();
    let groups: Vec<&str> = q.split('-').collect();
    let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    shaped.then(|| q.to_ascii_uppercase())
}

/// A moment as a person reads it in a message: `2026-11-26 12:00 UTC`.
pub fn utc_minute(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
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

#[cfg(test)]
mod tests {
    #[test]
    fn search_keys_fold_case_and_accents_in_every_script_without_transliterating() {
        let finds = |query: &str, name: &str| search_key(name).contains(&search_key(query));
        // Latin
        assert!(finds("luisa", "Luísa Fernández"));
        assert!(finds("jose", "José"));
        assert!(finds("muller", "Jürgen Müller"));
        assert!(finds("ZOE", "zoë"));
        assert!(finds("ﬁona", "Fiona"), "compatibility forms (ligature fi)");
        // Greek: case, tonos and final sigma
        assert!(finds("σωκρατης", "ΣΩΚΡΆΤΗΣ"));
        assert!(finds("Σωκράτης", "σωκρατης"));
        // Cyrillic: case; no transliteration
        assert!(finds("иванов", "ИВАНОВ"));
        assert!(!finds("ivanov", "Иванов"));
        // CJK: as it is; full-width Latin becomes plain
        assert!(finds("優子", "田中 優子"));
        assert!(finds("ana", "ＡＮＡ"));
        // Arabic and Hebrew: vowel marks (harakat, niqqud) are ignored
        assert!(finds("محمد", "مُحَمَّد"));
        assert!(finds("שלום", "שָׁלוֹם"));
        assert_eq!(
            search_key("Ayşe Yılmaz"),
            "ayse yılmaz",
            "ı is a letter, not a mark"
        );
    }

    use super::*;

    #[test]
    fn attempt_codes_are_recognised_in_any_case_and_nothing_else_is() {
        let code = "0F3C2A9E-1B2C-4D5E-8F90-ABCDEF012345";
        assert_eq!(attempt_code(code).as_deref(), Some(code));
        assert_eq!(
            attempt_code(&format!(" {} ", code.to_lowercase())).as_deref(),
            Some(code)
        );
        for other in [
            "garcia",
            "0F3C2A9E",
            "0F3C2A9E-1B2C-4D5E-8F90-ABCDEF01234Z",
            "",
        ] {
            assert_eq!(attempt_code(other), None, "{other}");
        }
    }

    #[test]
    fn escape_sequences_are_neutralised_and_scripts_kept() {
        assert_eq!(printable("Eve \u{1b}]0;pwned\u{7}"), "Eve ␛]0;pwned␇");
        assert_eq!(printable("\u{9b}31m"), "␦31m");
        assert_eq!(printable("abc\u{202E}fed"), "abcfed");
        assert!(matches!(printable("محمد 陈静 Zoë"), Cow::Borrowed(_)));
    }

    #[test]
    fn separators_and_invisible_format_characters_are_gone_joiners_kept() {
        assert_eq!(printable("Ann\u{2028}Lee\u{2029}"), "Ann Lee ");
        assert_eq!(printable("co\u{00AD}op"), "coop");
        assert_eq!(printable("\u{0600}\u{06DD}x\u{FEFF}\u{200B}"), "x");
        assert_eq!(printable("a\u{E0041}\u{E007F}b"), "ab");
        // Persian needs its zero-width non-joiner; Devanagari its joiner.
        assert_eq!(printable("می\u{200C}خواهم"), "می\u{200C}خواهم");
        assert_eq!(printable("क्\u{200D}ष"), "क्\u{200D}ष");
    }

    #[test]
    fn emoji_sequences_measure_the_same_cluster_by_cluster_and_codepoint_by_codepoint() {
        for s in [
            "👨\u{200D}👩\u{200D}👧",
            "👍🏽",
            "❤\u{FE0F}",
            "🇵🇱",
            "🏳\u{FE0F}\u{200D}🌈",
            "e\u{301}",
            "陈静",
        ] {
            let p = printable(s);
            for g in p.graphemes(true) {
                assert_eq!(g.width(), codepoint_width(g), "{s:?} → {p:?}");
            }
        }
        assert_eq!(printable("👨\u{200D}👩\u{200D}👧"), "👨👩👧");
    }

    #[test]
    fn flags_show_as_their_letters_which_every_terminal_measures_alike() {
        assert_eq!(printable("Amani 🇺🇳 Okafor"), "Amani UN Okafor");
        assert_eq!(printable("🇵🇱🇩🇪"), "PLDE");
        assert_eq!(printable("lone \u{1F1FF}"), "lone Z");
        assert!(printable("🇺🇳").is_ascii());
    }

    #[test]
    fn cutting_keeps_whole_clusters() {
        assert_eq!(take_columns("e\u{301}x", 1), "e\u{301}");
        assert_eq!(take_columns("陈静", 3), "陈");
        assert_eq!(columns("陈静e\u{301}"), 5);
    }
}
