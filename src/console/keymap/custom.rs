//! The reviewer's own keys: the config file's `[keys]` table applied to the defaults, and
//! everything that could make a binding surprising refused with the line it came from.

use super::{Binding, Chord, Command, Keymap, Scope};

/// One entry of the `[keys]` table: `fail = ["x"]` (everywhere `fail` is bound) or
/// `"reports.cancel" = ["Esc"]` (one place); no keys unbinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetting {
    pub name: String,
    pub keys: Vec<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct KeyError {
    pub line: usize,
    pub message: String,
}

/// The scopes in force together (see `State::key_scopes`): a key may do one thing in each.
const CHAINS: &[&[Scope]] = &[
    &[Scope::Help],
    &[Scope::Confirm],
    &[Scope::Reports],
    &[Scope::Search],
    // Playing and the contact sheet are modes: their keys stand in for the pane's on purpose.
    &[Scope::Playback],
    &[Scope::Sheet],
    &[Scope::Export],
    &[Scope::Quizzes, Scope::Global],
    &[Scope::Sessions, Scope::Session, Scope::Global],
    &[Scope::Detail, Scope::Session, Scope::Global],
];

/// Two bindings whose keys meet where both are in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub chord: String,
    pub first: (Scope, Command, Option<usize>),
    pub second: (Scope, Command, Option<usize>),
}

impl Keymap {
    /// The defaults with `settings` applied; every problem is reported, not just the first.
    pub fn customized(settings: &[KeySetting]) -> Result<Self, Vec<KeyError>> {
        let mut map = Self::default();
        let mut errors = Vec::new();
        let mut seen: Vec<(Option<Scope>, Command, usize)> = Vec::new();
        for s in settings {
            let err = |message: String| KeyError {
                line: s.line,
                message,
            };
            let (scope, command) = match target(&s.name) {
                Ok(t) => t,
                Err(m) => {
                    errors.push(err(m));
                    continue;
                }
            };
            let applies =
                |b: &Binding| b.command == command && scope.is_none_or(|sc| sc == b.scope);
            if !map.bindings.iter().any(applies) {
                errors.push(err(format!(
                    "{} has no binding in {} (see proctor-review keys)",
                    command.id(),
                    scope.map_or("any place", Scope::title)
                )));
                continue;
            }
            if let Some((_, _, line)) = seen.iter().find(|(sc, c, _)| {
                *c == command && (sc.is_none() || scope.is_none() || *sc == scope)
            }) {
                errors.push(err(format!(
                    "{} is set twice (also on line {line})",
                    s.name
                )));
                continue;
            }
            seen.push((scope, command, s.line));
            let mut chords = Vec::new();
            for k in &s.keys {
                match Chord::parse(k) {
                    Ok(c) if !chords.contains(&c) => chords.push(c),
                    Ok(_) => {}
                    Err(m) => errors.push(err(m)),
                }
            }
            if command == Command::ForceQuit && chords.is_empty() {
                errors.push(err(
                    "force_quit cannot be unbound: it is the way out from anywhere".into(),
                ));
                continue;
            }
            for b in map.bindings.iter_mut().filter(|b| applies(b)) {
                if let Some(c) = chords.iter().find(|c| b.scope.takes_text() && c.is_text()) {
                    errors.push(err(format!(
                        "'{}' cannot be {} in {}: there it is typed as text; use a key with Ctrl or Alt, or a named key",
                        c.label(),
                        command.id(),
                        b.scope.title()
                    )));
                }
                b.chords = chords.clone();
                b.changed_on = Some(s.line);
            }
        }
        for c in map.conflicts() {
            let line = c.second.2.or(c.first.2).unwrap_or(0);
            let describe = |(scope, cmd, line): (Scope, Command, Option<usize>)| match line {
                Some(l) => format!("{} in {} (line {l})", cmd.id(), scope.title()),
                None => format!("{} in {} (default)", cmd.id(), scope.title()),
            };
            errors.push(KeyError {
                line,
                message: format!(
                    "'{}' would do two things: {} and {}; unbind or rebind one of them",
                    c.chord,
                    describe(c.first),
                    describe(c.second)
                ),
            });
        }
        errors.sort_by_key(|e| e.line);
        errors.dedup();
        if errors.is_empty() {
            Ok(map)
        } else {
            Err(errors)
        }
    }

    /// Every key bound to two different actions where both are in force.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut out: Vec<Conflict> = Vec::new();
        for chain in CHAINS {
            let live: Vec<&Binding> = self
                .bindings
                .iter()
                .filter(|b| chain.contains(&b.scope))
                .collect();
            for (i, a) in live.iter().enumerate() {
                for b in &live[i + 1..] {
                    if a.command == b.command {
                        continue;
                    }
                    for chord in a.chords.iter().filter(|c| b.chords.contains(c)) {
                        let c = Conflict {
                            chord: chord.label(),
                            first: (a.scope, a.command, a.changed_on),
                            second: (b.scope, b.command, b.changed_on),
                        };
                        if !out.contains(&c) {
                            out.push(c);
                        }
                    }
                }
            }
        }
        out
    }
}

/// `fail` or `reports.cancel` → (the one scope, if named; the action).
fn target(name: &str) -> Result<(Option<Scope>, Command), String> {
    let (scope, action) = match name.split_once('.') {
        Some((s, a)) => {
            let scope = super::DOC_ORDER
                .iter()
                .find(|sc| sc.id() == s)
                .copied()
                .ok_or_else(|| {
                    let ids: Vec<_> = super::DOC_ORDER.iter().map(|s| s.id()).collect();
                    format!("unknown place '{s}' (one of: {})", ids.join(", "))
                })?;
            (Some(scope), a)
        }
        None => (None, name),
    };
    let command = Command::from_id(action).ok_or_else(|| match closest(action) {
        Some(near) => format!("unknown action '{action}' (did you mean '{near}'?)"),
        None => format!("unknown action '{action}' (proctor-review keys lists them)"),
    })?;
    Ok((scope, command))
}

/// The action name nearest to a mistyped one, if any is near.
fn closest(typed: &str) -> Option<&'static str> {
    Command::ids()
        .map(|id| (edit_distance(typed, id), id))
        .filter(|(d, id)| *d <= 2.max(id.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, id)| id)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn set(name: &str, keys: &[&str], line: usize) -> KeySetting {
        KeySetting {
            name: name.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            line,
        }
    }

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    const SESSIONS: &[Scope] = &[Scope::Sessions, Scope::Session, Scope::Global];

    #[test]
    fn an_action_can_be_rebound_and_unbound() {
        let map = Keymap::customized(&[set("fail", &["x"], 2), set("pass", &[], 3)]).unwrap();
        assert_eq!(map.lookup(SESSIONS, &press('x')), Some(Command::Fail));
        assert_eq!(
            map.lookup(SESSIONS, &press('f')),
            None,
            "the old key is free"
        );
        assert_eq!(map.lookup(SESSIONS, &press('p')), None, "pass is unbound");
        assert_eq!(map.key_for(Command::Fail), "x");
        assert!(map.hints(SESSIONS).contains(&("x".into(), "fail")));
        assert!(!map.hints(SESSIONS).iter().any(|(_, w)| *w == "pass"));
        assert!(map.markdown().contains("| (unbound) | Pass the session"));
    }

    #[test]
    fn one_place_can_be_changed_alone() {
        let map = Keymap::customized(&[set("reports.down", &["n", "Down"], 1)]);
        assert_eq!(
            map.unwrap_err()[0].message,
            "'n' would do two things: new_report in Reports (default) and down in Reports (line 1); unbind or rebind one of them"
        );
        let map = Keymap::customized(&[set("help.down", &["Space"], 1)]).unwrap();
        let space = KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE);
        assert_eq!(map.lookup(&[Scope::Help], &space), Some(Command::Down));
        assert_eq!(map.lookup(SESSIONS, &press('j')), Some(Command::Down));
    }

    #[test]
    fn mistakes_are_reported_with_their_lines() {
        let errors = Keymap::customized(&[
            set("fial", &["x"], 4),
            set("refresh", &["f"], 5),
            set("sort", &["enterr"], 6),
            set("force_quit", &[], 7),
            set("confirm", &["y"], 8),
            set("bogus.fail", &["x"], 9),
            set("quiz_list.fail", &["x"], 10),
            set("pass", &["P"], 11),
            set("deciding.pass", &["z"], 12),
        ])
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "line 4: unknown action 'fial' (did you mean 'fail'?)",
                "line 5: 'f' would do two things: fail in Deciding (Sessions and Learner Detail) (default) and refresh in Everywhere (line 5); unbind or rebind one of them",
                "line 6: 'enterr' is not a key (write e.g. x, X, Ctrl-x, Alt-x, Enter, Esc, Tab, F5, PgDn, Space)",
                "line 7: force_quit cannot be unbound: it is the way out from anywhere",
                "line 8: 'y' cannot be confirm in Confirmation: there it is typed as text; use a key with Ctrl or Alt, or a named key",
                "line 9: unknown place 'bogus' (one of: global, quiz_list, sessions, deciding, detail, playing, contact_sheet, export, search, confirm, reports, help)",
                "line 10: fail has no binding in Quiz List (see proctor-review keys)",
                "line 12: deciding.pass is set twice (also on line 11)",
            ]
        );
    }
}
