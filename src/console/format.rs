//! How values read on screen.

use crate::domain::text::{columns, last_columns, printable, take_columns};
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

/// A count with its thousands grouped: 1,740 and 250,000 read at a glance.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// An exam's counts, one item each: glyph and number, with the word when `words`.
pub fn count_items(c: &crate::domain::ExamCounts, words: bool) -> [String; 5] {
    let part = |glyph: &str, n: u64, word: &str| {
        if words {
            format!("{glyph} {} {word}", count(n))
        } else {
            format!("{glyph}{}", count(n))
        }
    };
    [
        part("⚑", c.require_attention, "require attention"),
        part("◷", c.pending, "pending"),
        part("✔", c.passed, "passed"),
        part("✘", c.failed, "failed"),
        if words {
            format!("{} sessions", count(c.sessions))
        } else {
            format!("Σ{}", count(c.sessions))
        },
    ]
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

/// `s` in at most `width` columns, shortened in the middle ("tmwangi@lea…example.edu"):
/// for tokens — emails, codes, paths, URLs — which both ends identify.
pub fn fit_middle(s: &str, width: usize) -> String {
    if columns(s) <= width {
        return s.to_owned();
    }
    if width < 5 {
        return fit(s, width);
    }
    let room = width - 1;
    let tail = last_columns(s, room / 2);
    let head = take_columns(s, room - columns(tail));
    format!("{head}…{tail}")
}

/// A word that names something (an email, a path, a URL, a code) rather than one of prose:
/// shortened in its middle, never broken across lines. Runs of wide (CJK) characters are
/// prose that wraps anywhere.
pub fn is_token(word: &str) -> bool {
    columns(word) == word.chars().count()
        && (word.contains(['@', '/', ':', '_', '.', '-']) || word.len() > 24)
}

/// `s` in `width` columns: its longest token shortened in the middle if that alone makes
/// it fit (a path keeps its file name), else cut between words (never inside one) and
/// ended with `more`, which says where the whole text is.
pub fn fit_words(s: &str, width: usize, more: &str) -> String {
    if columns(s) <= width {
        return s.to_owned();
    }
    if let Some(token) = s
        .split(' ')
        .filter(|w| is_token(w))
        .max_by_key(|w| columns(w))
    {
        let over = columns(s) + columns(more) - width;
        let keep = columns(token).saturating_sub(over);
        if keep >= 12 {
            return s.replacen(token, &fit_middle(token, keep), 1) + more;
        }
    }
    let room = width.saturating_sub(columns(more) + 1);
    let head = take_columns(s, room);
    // The cut is between words when the next character is a space; else back to one.
    let at_space = s[head.len()..].starts_with(char::is_whitespace);
    let head = if at_space {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) => &head[..i],
            None => head,
        }
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:—-".contains(c));
    // One long token (a path, an address) is cut inside rather than dropped whole.
    if columns(head) * 2 < room {
        return format!("{}{more}", fit(s, room + 1));
    }
    format!("{head}…{more}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_between_words_and_say_where_the_rest_is() {
        let m = "This session is still loading; press again once its details show.";
        assert_eq!(fit_words(m, 80, " (m)"), m);
        assert_eq!(
            fit_words(m, 40, " (m)"),
            "This session is still loading… (m)"
        );
        assert_eq!(
            fit_words(m, 45, " (m)"),
            "This session is still loading; press… (m)"
        );
        assert_eq!(fit_words("Supercalifragilistic", 10, " (m)"), "Super… (m)");
        assert_eq!(
            fit_words("✔ Saved /tmp/exports/results_report.csv", 34, " (m)"),
            "✔ Saved /tmp/export…report.csv (m)"
        );
    }

    #[test]
    fn fit_counts_columns_not_bytes() {
        assert_eq!(fit("陈静陈静", 5), "陈静…");
        assert_eq!(fit("Zoë", 3), "Zoë");
        assert_eq!(fit("Zoe\u{301}y", 3), "Zo…");
        assert_eq!(duration(Some(4080)), "1h08m");
        assert_eq!(duration(Some(125)), "2m05s");
        assert_eq!(offset(3725), "01:02:05");
        assert_eq!(
            [
                count(0),
                count(999),
                count(1740),
                count(250_000),
                count(1_000_000)
            ],
            ["0", "999", "1,740", "250,000", "1,000,000"]
        );
    }

    use proptest::prelude::*;

    /// Text as reviewers meet it: Latin, CJK, Arabic, combining marks, emoji, emails,
    /// attempt codes and paths, joined by spaces or not.
    pub fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "Ana",
            "Wojciech",
            "Kowalski",
            "田中",
            "優子",
            "فاطمه",
            "حسینی",
            "Ayşe",
            "e\u{301}",
            "👩‍🎓",
            "wkowalski@learners.example.edu",
            "0A1B2C3D-0000-4000-8000-000000000001",
            "/home/reviewer/exports/course-v1_MITx/results_report.csv",
            "https://lms.example.edu/x",
            "(nobody",
            "was",
            "told)",
            "—",
            "Supercalifragilisticexpialidocious",
            "",
        ]);
        prop::collection::vec((pieces, prop::bool::ANY), 0..10).prop_map(|parts| {
            parts
                .into_iter()
                .map(|(p, space)| if space { format!("{p} ") } else { p.to_owned() })
                .collect()
        })
    }

    proptest! {
        /// Issue #23 item 6: every cut shows "…", and nothing is ever wider than asked.
        #[test]
        fn every_cut_is_marked_and_fits(s in text(), width in 1usize..90) {
            for (how, out) in [
                ("fit", fit(&s, width)),
                ("fit_middle", fit_middle(&s, width)),
                ("fit_words", fit_words(&s, width, "")),
            ] {
                prop_assert!(columns(&out) <= width, "{how}({s:?}, {width}) = {out:?}");
                if columns(&s) <= width {
                    prop_assert_eq!(&out, &s, "{} cut what fitted", how);
                } else {
                    prop_assert!(out.contains('…'), "{how}({s:?}, {width}) = {out:?} hides its cut");
                }
            }
        }
    }
}
