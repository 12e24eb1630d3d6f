//! One key with its modifiers: how it matches a key event, how it is written on screen, and
//! how a reviewer writes it in the config file.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

pub const fn key(code: KeyCode) -> Chord {
    Chord {
        code,
        mods: KeyModifiers::NONE,
    }
}

pub const fn ch(c: char) -> Chord {
    key(KeyCode::Char(c))
}

pub const fn ctrl(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

/// Names a key can be written with in the config file (lower case), besides its label.
const NAMES: &[(&str, KeyCode)] = &[
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("s-tab", KeyCode::BackTab),
    ("shift-tab", KeyCode::BackTab),
    ("backtab", KeyCode::BackTab),
    ("pgup", KeyCode::PageUp),
    ("pageup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("bksp", KeyCode::Backspace),
    ("backspace", KeyCode::Backspace),
    ("space", KeyCode::Char(' ')),
    ("↑", KeyCode::Up),
    ("↓", KeyCode::Down),
    ("←", KeyCode::Left),
    ("→", KeyCode::Right),
];

impl Chord {
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        // Shift is part of the character for letters and symbols ('G', '?'), so only
        // Control and Alt must match exactly.
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        self.code == ev.code && (ev.modifiers & relevant) == (self.mods & relevant)
    }

    /// A plain character: in a text field it is typed, not a command.
    pub fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
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
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".into(),
        };
        let mut out = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            out.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            out.push_str("Alt-");
        }
        out + &base
    }

    /// Reads a key as the config file writes it: `x`, `X`, `?`, `Ctrl-x`, `Alt-x`, `Enter`,
    /// `Esc`, `F5`, `PgDn`, `Space`… (names in any case; a single character as it is).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            if let Some(r) = ["ctrl-", "c-"].iter().find_map(|p| strip(rest, p)) {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = ["alt-", "a-", "m-"].iter().find_map(|p| strip(rest, p)) {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => {
                // Ctrl-X and Ctrl-x are the same key to the terminal.
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => {
                let lower = rest.to_lowercase();
                match NAMES.iter().find(|(n, _)| *n == lower) {
                    Some((_, code)) => *code,
                    None => match lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                        Some(n @ 1..=12) => KeyCode::F(n),
                        _ => {
                            return Err(format!(
                                "'{text}' is not a key (write e.g. x, X, Ctrl-x, Alt-x, Enter, Esc, Tab, F5, PgDn, Space)"
                            ));
                        }
                    },
                }
            }
        };
        Ok(Self { code, mods })
    }
}

/// `text` without the ASCII `prefix`, compared case-blind, if a key follows it.
fn strip<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    (head.eq_ignore_ascii_case(prefix) && text.len() > prefix.len()).then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_as_they_are_written() {
        for chord in [
            ch('x'),
            ch('G'),
            ch('?'),
            ch('-'),
            ctrl('b'),
            key(KeyCode::Enter),
            key(KeyCode::BackTab),
            key(KeyCode::F(5)),
            key(KeyCode::PageDown),
            ch(' '),
            Chord {
                code: KeyCode::Char('x'),
                mods: KeyModifiers::ALT,
            },
        ] {
            assert_eq!(Chord::parse(&chord.label()), Ok(chord), "{}", chord.label());
        }
        assert_eq!(Chord::parse("ctrl-B"), Ok(ctrl('b')));
        assert_eq!(Chord::parse("ENTER"), Ok(key(KeyCode::Enter)));
        assert!(
            Chord::parse("enterr")
                .unwrap_err()
                .contains("'enterr' is not a key")
        );
        assert!(Chord::parse("").is_err() && Chord::parse("F13").is_err());
    }
}
