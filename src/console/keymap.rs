//! The one registry of key bindings. Dispatch, the hint bar and the `?` help all read it,
//! so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere no dialog, search or help is open.
    Global,
    Quizzes,
    Sessions,
    Detail,
    /// Sessions or Detail: the keys that act on the session under the cursor.
    Session,
    Search,
    Confirm,
    Reports,
    Help,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Self::Global => "Everywhere",
            Self::Quizzes => "Quiz List",
            Self::Sessions => "Sessions",
            Self::Detail => "Learner Detail",
            Self::Session => "Deciding (Sessions and Learner Detail)",
            Self::Search => "Search",
            Self::Confirm => "Confirmation",
            Self::Reports => "Reports",
            Self::Help => "Help",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    NextPane,
    PrevPane,
    Pass,
    Fail,
    Search,
    ToggleAttention,
    CycleSort,
    ReverseSort,
    Refresh,
    Help,
    Quit,
    ForceQuit,
    Suspend,
    Confirm,
    Cancel,
    ApplySearch,
    ClearSearch,
    NextTab,
    PrevTab,
    /// Learner Detail's tab by its position (0 = Exam Data).
    Tab(u8),
    OpenEvidence,
    OpenReports,
    NewReport,
    ExportSession,
    ExportTable,
    /// Send the session's waiting or failed review to Open edX now.
    RetryLms,
    /// Take back the last Pass or Fail while nobody has been told.
    Undo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn key(code: KeyCode) -> Chord {
    Chord {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Chord {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

impl Chord {
    fn matches(&self, ev: &KeyEvent) -> bool {
        // Shift is part of the character for letters and symbols ('G', '?'), so only
        // Control and Alt must match exactly.
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        self.code == ev.code && (ev.modifiers & relevant) == (self.mods & relevant)
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".into(),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

pub struct Binding {
    pub scope: Scope,
    pub chords: &'static [Chord],
    pub command: Command,
    /// Short word for the hint bar; bindings without one appear only in help.
    pub hint: Option<&'static str>,
    pub help: &'static str,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        self.chords
            .iter()
            .map(Chord::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

use Command as C;
use KeyCode as K;
use Scope as S;

pub static BINDINGS: &[Binding] = &[
    Binding {
        scope: S::Global,
        chords: &[key(K::Up), ch('k')],
        command: C::Up,
        hint: None,
        help: "Move up",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::Down), ch('j')],
        command: C::Down,
        hint: Some("move"),
        help: "Move down",
    },
    Binding {
        scope: S::Global,
        chords: &[ch('g'), key(K::Home)],
        command: C::Top,
        hint: None,
        help: "Go to the first row",
    },
    Binding {
        scope: S::Global,
        chords: &[ch('G'), key(K::End)],
        command: C::Bottom,
        hint: None,
        help: "Go to the last row",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::PageUp), ctrl('b')],
        command: C::PageUp,
        hint: None,
        help: "Page up",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::PageDown), ctrl('f')],
        command: C::PageDown,
        hint: None,
        help: "Page down",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::Enter), key(K::Right), ch('l')],
        command: C::Open,
        hint: Some("open"),
        help: "Open the selected exam or learner",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::Esc), key(K::Left), ch('h')],
        command: C::Back,
        hint: Some("back"),
        help: "Go back to the previous pane",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::Tab)],
        command: C::NextPane,
        hint: None,
        help: "Next pane",
    },
    Binding {
        scope: S::Global,
        chords: &[key(K::BackTab)],
        command: C::PrevPane,
        hint: None,
        help: "Previous pane",
    },
    Binding {
        scope: S::Session,
        chords: &[ch('p')],
        command: C::Pass,
        hint: Some("pass"),
        help: "Pass the session (restores the original grade)",
    },
    Binding {
        scope: S::Session,
        chords: &[ch('f')],
        command: C::Fail,
        hint: Some("fail"),
        help: "Fail the session (grade 0, learner emailed)",
    },
    Binding {
        scope: S::Session,
        chords: &[ch('e')],
        command: C::ExportSession,
        hint: None,
        help: "Export the session: screenshots, scans, violations.csv, session.json",
    },
    Binding {
        scope: S::Global,
        chords: &[ch('u')],
        command: C::Undo,
        hint: None,
        help: "Undo your last Pass or Fail while its countdown runs (nobody has been told yet)",
    },
    Binding {
        scope: S::Session,
        chords: &[ch('L')],
        command: C::RetryLms,
        hint: None,
        help: "Send the review to Open edX again now (a waiting or failed delivery)",
    },
    Binding {
        scope: S::Sessions,
        chords: &[ch('E')],
        command: C::ExportTable,
        hint: None,
        help: "Export the whole list, as filtered and sorted now, as CSV",
    },
    Binding {
        scope: S::Sessions,
        chords: &[ch('/')],
        command: C::Search,
        hint: Some("search"),
        help: "Search by name, username or email",
    },
    Binding {
        scope: S::Sessions,
        chords: &[ch('a')],
        command: C::ToggleAttention,
        hint: Some("attention only"),
        help: "Show only Require Attention sessions, or all",
    },
    Binding {
        scope: S::Sessions,
        chords: &[ch('s')],
        command: C::CycleSort,
        hint: Some("sort"),
        help: "Sort by the next column",
    },
    Binding {
        scope: S::Sessions,
        chords: &[ch('S')],
        command: C::ReverseSort,
        hint: None,
        help: "Reverse the sort order",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch(']')],
        command: C::NextTab,
        hint: Some("tabs"),
        help: "Next tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('[')],
        command: C::PrevTab,
        hint: None,
        help: "Previous tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('1')],
        command: C::Tab(0),
        hint: None,
        help: "Exam Data tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('2')],
        command: C::Tab(1),
        hint: None,
        help: "Video Monitoring tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('3')],
        command: C::Tab(2),
        hint: None,
        help: "Online Violations tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('4')],
        command: C::Tab(3),
        hint: None,
        help: "Verification Scans tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('5')],
        command: C::Tab(4),
        hint: None,
        help: "Onboarding tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('6')],
        command: C::Tab(5),
        hint: None,
        help: "History tab",
    },
    Binding {
        scope: S::Detail,
        chords: &[ch('o')],
        command: C::OpenEvidence,
        hint: Some("open"),
        help: "Open the selected clip (at the flagged moment) or image in the system viewer",
    },
    Binding {
        scope: S::Quizzes,
        chords: &[ch('R')],
        command: C::OpenReports,
        hint: Some("reports"),
        help: "Reports of the course under the cursor (Proctored Exam Results)",
    },
    Binding {
        scope: S::Sessions,
        chords: &[ch('R')],
        command: C::OpenReports,
        hint: None,
        help: "Reports of this exam's course",
    },
    Binding {
        scope: S::Reports,
        chords: &[ch('n')],
        command: C::NewReport,
        hint: Some("new report"),
        help: "Generate a new Proctored Exam Results report",
    },
    Binding {
        scope: S::Reports,
        chords: &[key(K::Enter)],
        command: C::Confirm,
        hint: Some("download"),
        help: "Download the selected report to the export folder",
    },
    Binding {
        scope: S::Reports,
        chords: &[key(K::Up), ch('k')],
        command: C::Up,
        hint: None,
        help: "Previous report",
    },
    Binding {
        scope: S::Reports,
        chords: &[key(K::Down), ch('j')],
        command: C::Down,
        hint: Some("move"),
        help: "Next report",
    },
    Binding {
        scope: S::Reports,
        chords: &[ch('r'), key(K::F(5))],
        command: C::Refresh,
        hint: None,
        help: "Reload the list",
    },
    Binding {
        scope: S::Reports,
        chords: &[key(K::Esc), ch('q')],
        command: C::Cancel,
        hint: Some("close"),
        help: "Close Reports (or the warning)",
    },
    Binding {
        scope: S::Reports,
        chords: &[ctrl('c')],
        command: C::ForceQuit,
        hint: None,
        help: "Quit at once",
    },
    Binding {
        scope: S::Global,
        chords: &[ch('r'), key(K::F(5))],
        command: C::Refresh,
        hint: None,
        help: "Reload from the server",
    },
    Binding {
        scope: S::Global,
        chords: &[ch('?')],
        command: C::Help,
        hint: Some("help"),
        help: "Show all keys",
    },
    Binding {
        scope: S::Global,
        chords: &[ch('q')],
        command: C::Quit,
        hint: Some("quit"),
        help: "Quit",
    },
    Binding {
        scope: S::Global,
        chords: &[ctrl('c')],
        command: C::ForceQuit,
        hint: None,
        help: "Quit at once, from anywhere",
    },
    Binding {
        scope: S::Global,
        chords: &[ctrl('z')],
        command: C::Suspend,
        hint: None,
        help: "Suspend to the shell (fg resumes)",
    },
    Binding {
        scope: S::Search,
        chords: &[key(K::Enter)],
        command: C::ApplySearch,
        hint: Some("keep filter"),
        help: "Keep the search and go back to the list",
    },
    Binding {
        scope: S::Search,
        chords: &[key(K::Esc)],
        command: C::ClearSearch,
        hint: Some("clear"),
        help: "Clear the search",
    },
    Binding {
        scope: S::Search,
        chords: &[ctrl('c')],
        command: C::ForceQuit,
        hint: None,
        help: "Quit at once",
    },
    Binding {
        scope: S::Confirm,
        chords: &[key(K::Enter)],
        command: C::Confirm,
        hint: Some("confirm"),
        help: "Carry out the decision",
    },
    Binding {
        scope: S::Confirm,
        chords: &[key(K::Esc)],
        command: C::Cancel,
        hint: Some("cancel"),
        help: "Cancel; nothing changes",
    },
    Binding {
        scope: S::Confirm,
        chords: &[ctrl('c')],
        command: C::ForceQuit,
        hint: None,
        help: "Quit at once",
    },
    Binding {
        scope: S::Help,
        chords: &[key(K::Esc), ch('?'), ch('q')],
        command: C::Cancel,
        hint: Some("close"),
        help: "Close help",
    },
    Binding {
        scope: S::Help,
        chords: &[key(K::Up), ch('k')],
        command: C::Up,
        hint: None,
        help: "Scroll up",
    },
    Binding {
        scope: S::Help,
        chords: &[key(K::Down), ch('j')],
        command: C::Down,
        hint: Some("scroll"),
        help: "Scroll down",
    },
    Binding {
        scope: S::Help,
        chords: &[ctrl('c')],
        command: C::ForceQuit,
        hint: None,
        help: "Quit at once",
    },
];

/// The first binding in `scopes` (most specific first) that the key matches.
pub fn lookup(scopes: &[Scope], ev: &KeyEvent) -> Option<Command> {
    scopes.iter().find_map(|scope| {
        BINDINGS
            .iter()
            .filter(|b| b.scope == *scope)
            .find(|b| b.chords.iter().any(|c| c.matches(ev)))
            .map(|b| b.command)
    })
}

/// The order scopes are listed in help and documentation: general to specific.
const DOC_ORDER: [Scope; 9] = [
    S::Global,
    S::Quizzes,
    S::Sessions,
    S::Session,
    S::Detail,
    S::Search,
    S::Confirm,
    S::Reports,
    S::Help,
];

/// Every binding, grouped by scope, for the `?` help and the README.
pub fn by_scope() -> Vec<(Scope, Vec<&'static Binding>)> {
    DOC_ORDER
        .iter()
        .map(|scope| {
            (
                *scope,
                BINDINGS
                    .iter()
                    .filter(|b| b.scope == *scope)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, bs)| !bs.is_empty())
        .collect()
}

/// The key table in the README, generated from the registry so the two cannot disagree.
pub fn markdown() -> String {
    let mut out = String::from("| where | keys | does |\n| --- | --- | --- |\n");
    for (scope, bindings) in by_scope() {
        for b in bindings {
            let keys = b
                .chords
                .iter()
                .map(|c| format!("`{}`", c.label()))
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&format!("| {} | {keys} | {} |\n", scope.title(), b.help));
        }
    }
    out
}

/// (keys, word) pairs for the hint bar, most specific scope first.
pub fn hints(scopes: &[Scope]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for scope in scopes {
        for b in BINDINGS.iter().filter(|b| b.scope == *scope) {
            if let Some(h) = b.hint {
                let keys = match b.command {
                    C::Down if *scope == S::Global => "↑↓".to_string(),
                    C::NextTab => "[ ]".to_string(),
                    _ => b.chords[0].label(),
                };
                if !out.iter().any(|(_, w)| *w == h) {
                    out.push((keys, h));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn no_chord_is_bound_twice_in_one_scope() {
        for a in BINDINGS {
            for b in BINDINGS {
                if std::ptr::eq(a, b) || a.scope != b.scope {
                    continue;
                }
                for c in a.chords {
                    assert!(
                        !b.chords.contains(c),
                        "{} bound to {:?} and {:?}",
                        c.label(),
                        a.command,
                        b.command
                    );
                }
            }
        }
    }

    #[test]
    fn specific_scopes_win_and_shifted_symbols_match() {
        let scopes = [S::Sessions, S::Session, S::Global];
        assert_eq!(
            lookup(&scopes, &press(K::Char('f'), KeyModifiers::NONE)),
            Some(C::Fail)
        );
        assert_eq!(
            lookup(&scopes, &press(K::Char('?'), KeyModifiers::SHIFT)),
            Some(C::Help)
        );
        assert_eq!(
            lookup(&scopes, &press(K::Char('G'), KeyModifiers::SHIFT)),
            Some(C::Bottom)
        );
        assert_eq!(
            lookup(&scopes, &press(K::Char('c'), KeyModifiers::CONTROL)),
            Some(C::ForceQuit)
        );
        assert_eq!(
            lookup(
                &[S::Quizzes, S::Global],
                &press(K::Char('f'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            lookup(&[S::Confirm], &press(K::Char('q'), KeyModifiers::NONE)),
            None,
            "q types into the reason"
        );
    }

    #[test]
    fn the_readme_key_table_is_the_registry() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("<!-- keys:start -->\n")
            .nth(1)
            .and_then(|rest| rest.split("<!-- keys:end -->").next())
            .expect("README has a generated key table");
        assert_eq!(
            table,
            markdown(),
            "README key table is stale; paste the output of keymap::markdown() between the markers"
        );
    }

    #[test]
    fn hints_come_from_the_registry() {
        let h = hints(&[S::Sessions, S::Session, S::Global]);
        let words: Vec<_> = h.iter().map(|(_, w)| *w).collect();
        assert_eq!(words[..3], ["search", "attention only", "sort"]);
        assert!(words.contains(&"fail") && words.contains(&"quit"));
        assert!(h.contains(&("f".into(), "fail")));
    }
}
