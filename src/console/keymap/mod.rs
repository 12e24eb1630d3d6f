//! The one registry of key bindings. Dispatch, the hint bar, the `?` help and
//! `proctor-review keys` all read the same `Keymap` (the defaults with the reviewer's config
//! applied), so they cannot disagree.

mod chord;
mod custom;
mod defaults;

pub use chord::Chord;
use crossterm::event::KeyEvent;
pub use custom::{KeyError, KeySetting};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere no dialog, search or help is open.
    Global,
    Quizzes,
    Sessions,
    Detail,
    /// A flagged moment playing (or an image zoomed) in Learner Detail.
    Playback,
    /// A recording's contact sheet over Learner Detail.
    Sheet,
    /// `e` asked whether the export takes the violation clips.
    Export,
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
            Self::Playback => "Playing or zoomed",
            Self::Sheet => "Contact sheet",
            Self::Export => "Exporting a session",
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
    /// Copy a signed link to the selected evidence to the terminal's clipboard.
    CopyLink,
    OpenReports,
    NewReport,
    ExportSession,
    ExportTable,
    /// Send the session's waiting or failed review to Open edX now.
    RetryLms,
    /// Take back the last Pass or Fail while nobody has been told.
    Undo,
    /// The log of this run's messages, newest first.
    Messages,
    /// The team's backlog and pace in the course under the cursor.
    Team,
    /// Play the selected flagged moment in the terminal, or pause it.
    PlayPause,
    StepForward,
    StepBack,
    Slower,
    Faster,
    /// The selected image or the playing moment over the whole terminal, or back.
    Zoom,
    /// Stop playing (or leave the zoom first).
    StopPlay,
    /// The recording's stills in a grid.
    ContactSheet,
    /// Export the session with its violation clips.
    ExportWithClips,
}

/// A binding as shipped: the console's defaults.
/// The names the config file uses for actions, e.g. `fail = ["x"]`.
const COMMAND_IDS: &[(Command, &str)] = &[
    (Command::Up, "up"),
    (Command::Down, "down"),
    (Command::Top, "top"),
    (Command::Bottom, "bottom"),
    (Command::PageUp, "page_up"),
    (Command::PageDown, "page_down"),
    (Command::Open, "open"),
    (Command::Back, "back"),
    (Command::NextPane, "next_pane"),
    (Command::PrevPane, "prev_pane"),
    (Command::Pass, "pass"),
    (Command::Fail, "fail"),
    (Command::Search, "search"),
    (Command::ToggleAttention, "toggle_attention"),
    (Command::CycleSort, "sort"),
    (Command::ReverseSort, "reverse_sort"),
    (Command::Refresh, "refresh"),
    (Command::Help, "help"),
    (Command::Messages, "messages"),
    (Command::Team, "team"),
    (Command::Quit, "quit"),
    (Command::ForceQuit, "force_quit"),
    (Command::Suspend, "suspend"),
    (Command::Confirm, "confirm"),
    (Command::Cancel, "cancel"),
    (Command::ApplySearch, "apply_search"),
    (Command::ClearSearch, "clear_search"),
    (Command::NextTab, "next_tab"),
    (Command::PrevTab, "prev_tab"),
    (Command::Tab(0), "tab_1"),
    (Command::Tab(1), "tab_2"),
    (Command::Tab(2), "tab_3"),
    (Command::Tab(3), "tab_4"),
    (Command::Tab(4), "tab_5"),
    (Command::Tab(5), "tab_6"),
    (Command::OpenEvidence, "open_evidence"),
    (Command::CopyLink, "copy_link"),
    (Command::OpenReports, "reports"),
    (Command::NewReport, "new_report"),
    (Command::ExportSession, "export_session"),
    (Command::ExportTable, "export_table"),
    (Command::RetryLms, "retry_lms"),
    (Command::Undo, "undo"),
    (Command::PlayPause, "play_pause"),
    (Command::StepForward, "step_forward"),
    (Command::StepBack, "step_back"),
    (Command::Slower, "slower"),
    (Command::Faster, "faster"),
    (Command::Zoom, "zoom"),
    (Command::StopPlay, "stop_playing"),
    (Command::ContactSheet, "contact_sheet"),
    (Command::ExportWithClips, "export_with_clips"),
];

impl Command {
    pub fn id(self) -> &'static str {
        COMMAND_IDS
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("?", |(_, id)| id)
    }

    pub fn from_id(id: &str) -> Option<Self> {
        COMMAND_IDS.iter().find(|(_, i)| *i == id).map(|(c, _)| *c)
    }

    pub fn ids() -> impl Iterator<Item = &'static str> {
        COMMAND_IDS.iter().map(|(_, id)| *id)
    }
}

impl Scope {
    /// The prefix that limits a config setting to one place, e.g. `"reports.cancel"`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Quizzes => "quiz_list",
            Self::Sessions => "sessions",
            Self::Detail => "detail",
            Self::Playback => "playing",
            Self::Sheet => "contact_sheet",
            Self::Export => "export",
            Self::Session => "deciding",
            Self::Search => "search",
            Self::Confirm => "confirm",
            Self::Reports => "reports",
            Self::Help => "help",
        }
    }

    /// Where text is typed: a plain character there is text, never a command.
    pub fn takes_text(self) -> bool {
        matches!(self, Self::Search | Self::Confirm)
    }
}

pub struct Preset {
    pub scope: Scope,
    pub chords: &'static [Chord],
    pub command: Command,
    /// Short word for the hint bar; bindings without one appear only in help.
    pub hint: Option<&'static str>,
    pub help: &'static str,
}

/// A binding in force: a preset, perhaps with other keys (none when unbound).
#[derive(Debug, Clone)]
pub struct Binding {
    pub scope: Scope,
    pub chords: Vec<Chord>,
    pub command: Command,
    pub hint: Option<&'static str>,
    pub help: &'static str,
    /// The config line that changed it; None for a default.
    pub changed_on: Option<usize>,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        if self.chords.is_empty() {
            return "(unbound)".into();
        }
        self.chords
            .iter()
            .map(Chord::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: defaults::DEFAULTS
                .iter()
                .map(|p| Binding {
                    scope: p.scope,
                    chords: p.chords.to_vec(),
                    command: p.command,
                    hint: p.hint,
                    help: p.help,
                    changed_on: None,
                })
                .collect(),
        }
    }
}

use Command as C;
use Scope as S;

/// The order scopes are listed in help and documentation: general to specific.
const DOC_ORDER: [Scope; 12] = [
    S::Global,
    S::Quizzes,
    S::Sessions,
    S::Session,
    S::Detail,
    S::Playback,
    S::Sheet,
    S::Export,
    S::Search,
    S::Confirm,
    S::Reports,
    S::Help,
];

impl Keymap {
    /// The first binding in `scopes` (most specific first) that the key matches.
    pub fn lookup(&self, scopes: &[Scope], ev: &KeyEvent) -> Option<Command> {
        scopes.iter().find_map(|scope| {
            self.in_scope(*scope)
                .find(|b| b.chords.iter().any(|c| c.matches(ev)))
                .map(|b| b.command)
        })
    }

    fn in_scope(&self, scope: Scope) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.scope == scope)
    }

    /// The first key that does `command` anywhere, as written on screen ("unbound" when
    /// none does), for messages that tell the reviewer what to press.
    pub fn key_for(&self, command: Command) -> String {
        first_key(self.bindings.iter(), command)
    }

    /// The first key that does `command` in `scope`, as written on screen.
    pub fn key_in(&self, scope: Scope, command: Command) -> String {
        first_key(self.in_scope(scope), command)
    }

    /// Every binding, grouped by scope, for the `?` help and docs/console.md.
    pub fn by_scope(&self) -> Vec<(Scope, Vec<&Binding>)> {
        DOC_ORDER
            .iter()
            .map(|scope| (*scope, self.in_scope(*scope).collect::<Vec<_>>()))
            .filter(|(_, bs)| !bs.is_empty())
            .collect()
    }

    /// The key table of docs/console.md and `proctor-review keys`.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| where | keys | does |\n| --- | --- | --- |\n");
        for (scope, bindings) in self.by_scope() {
            for b in bindings {
                let keys = if b.chords.is_empty() {
                    "(unbound)".to_string()
                } else {
                    b.chords
                        .iter()
                        .map(|c| format!("`{}`", c.label()))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                out.push_str(&format!("| {} | {keys} | {} |\n", scope.title(), b.help));
            }
        }
        out
    }

    /// (keys, word) pairs for the hint bar, most specific scope first.
    pub fn hints(&self, scopes: &[Scope]) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for scope in scopes {
            for b in self.in_scope(*scope) {
                let (Some(h), Some(first)) = (b.hint, b.chords.first()) else {
                    continue;
                };
                let keys = match b.command {
                    C::Down if *scope == S::Global => self.pair(*scope, C::Up, first),
                    C::NextTab => self.pair(*scope, C::PrevTab, first),
                    _ => first.label(),
                };
                // A key a more specific scope already hints at does that there.
                if !out.iter().any(|(k, w)| *w == h || *k == keys) {
                    out.push((keys, h));
                }
            }
        }
        out
    }

    /// "↑↓" or "[ ]": the hint for a pair of opposite moves, when both are bound.
    fn pair(&self, scope: Scope, other: Command, first: &Chord) -> String {
        let other = self
            .in_scope(scope)
            .find(|b| b.command == other)
            .and_then(|b| b.chords.first());
        match other {
            Some(o) if o.code == crossterm::event::KeyCode::Up => {
                format!("{}{}", o.label(), first.label())
            }
            Some(o) => format!("{} {}", o.label(), first.label()),
            None => first.label(),
        }
    }
}

/// The label of the first key any of `bindings` has for `command`.
fn first_key<'a>(bindings: impl Iterator<Item = &'a Binding>, command: Command) -> String {
    bindings
        .filter(|b| b.command == command)
        .find_map(|b| b.chords.first())
        .map_or_else(|| "(unbound)".into(), Chord::label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode as K, KeyModifiers};

    fn press(code: K, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn lookup(scopes: &[Scope], ev: &KeyEvent) -> Option<Command> {
        Keymap::default().lookup(scopes, ev)
    }

    #[test]
    fn no_key_does_two_things_where_both_are_in_force() {
        assert_eq!(Keymap::default().conflicts(), vec![]);
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
    fn the_documented_key_table_is_the_registry() {
        let readme = include_str!("../../../docs/console.md");
        let table = readme
            .split("<!-- keys:start -->\n")
            .nth(1)
            .and_then(|rest| rest.split("<!-- keys:end -->").next())
            .expect("docs/console.md has a generated key table");
        assert_eq!(
            table,
            Keymap::default().markdown(),
            "docs/console.md's key table is stale; paste `proctor-review keys` between the markers"
        );
    }

    #[test]
    fn hints_come_from_the_registry() {
        let h = Keymap::default().hints(&[S::Sessions, S::Session, S::Global]);
        let words: Vec<_> = h.iter().map(|(_, w)| *w).collect();
        assert_eq!(words[..3], ["search", "attention only", "sort"]);
        assert!(words.contains(&"fail") && words.contains(&"quit"));
        assert!(h.contains(&("f".into(), "fail")));
        assert!(h.contains(&("↑↓".into(), "move")));
    }
}
