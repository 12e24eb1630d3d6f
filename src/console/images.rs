//! How evidence images are drawn in the terminal: kitty, sixel or iTerm2 graphics where the
//! terminal answers that it has them, half-blocks (two pixels a cell, any colour terminal)
//! everywhere else, including tmux and terminals that do not answer.
//!
//! Asking is not free: ratatui-image reads the answer on a thread of its own, and a
//! terminal that never answers leaves that thread reading — and swallowing — the keys typed
//! next. So `auto` asks only terminals known to answer (and to draw graphics); `detect`
//! always asks.

use ratatui_image::picker::cap_parser::QueryStdioOptions;
use ratatui_image::picker::{Picker, ProtocolType};
use std::str::FromStr;
use std::time::Duration;

/// How long to wait for the terminal to say what it can draw; a terminal that says nothing
/// gets half-blocks after this.
const QUERY_TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImageMode {
    /// Ask terminals known to draw graphics; half-blocks elsewhere.
    #[default]
    Auto,
    /// Ask whatever terminal this is; half-blocks if it does not say.
    Detect,
    Halfblocks,
    /// A graphics protocol the terminal is not asked about (one that does not answer, or a
    /// multiplexer passing it through); cells are taken to be 10×20 pixels.
    Forced(ProtocolType),
    Off,
}

impl FromStr for ImageMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "detect" => Ok(Self::Detect),
            "halfblocks" => Ok(Self::Halfblocks),
            "kitty" => Ok(Self::Forced(ProtocolType::Kitty)),
            "sixel" => Ok(Self::Forced(ProtocolType::Sixel)),
            "iterm2" => Ok(Self::Forced(ProtocolType::Iterm2)),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "'{other}' is not an image mode: auto, detect, halfblocks, kitty, sixel, iterm2 or off"
            )),
        }
    }
}

/// The picker for `mode`. For `Auto` it queries the terminal, so call it after entering the
/// alternate screen and before reading events.
pub fn picker(mode: ImageMode) -> Option<Picker> {
    match mode {
        ImageMode::Off => None,
        ImageMode::Halfblocks => Some(Picker::halfblocks()),
        ImageMode::Forced(protocol) => {
            let mut p = Picker::halfblocks();
            p.set_protocol_type(protocol);
            Some(p)
        }
        ImageMode::Auto if !graphics_terminal(|k| std::env::var(k).ok()) => {
            Some(Picker::halfblocks())
        }
        ImageMode::Auto | ImageMode::Detect => Some(choose(Picker::from_query_stdio_with_options(
            QueryStdioOptions {
                timeout: QUERY_TIMEOUT,
                ..Default::default()
            },
        ))),
    }
}

/// Whether the environment names a terminal that answers the query and draws graphics
/// (kitty, WezTerm, iTerm2, Ghostty, foot, Konsole, mlterm, Contour). Inside tmux or screen
/// half-blocks are what works.
pub fn graphics_terminal(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    if set("TMUX") || env("TERM").is_some_and(|t| t.starts_with("screen") || t.starts_with("tmux"))
    {
        return false;
    }
    let program = env("TERM_PROGRAM").unwrap_or_default().to_lowercase();
    let term = env("TERM").unwrap_or_default().to_lowercase();
    set("KITTY_WINDOW_ID")
        || set("WEZTERM_EXECUTABLE")
        || set("KONSOLE_VERSION")
        || ["iterm.app", "wezterm", "ghostty", "contour", "mlterm"].contains(&program.as_str())
        || ["kitty", "foot", "ghostty", "mlterm", "contour"]
            .iter()
            .any(|t| term.contains(t))
}

/// The queried picker, or half-blocks when the terminal reported nothing usable.
pub fn choose<E>(queried: Result<Picker, E>) -> Picker {
    match queried {
        Ok(p) => p,
        Err(_) => Picker::halfblocks(),
    }
}

pub fn describe(picker: Option<&Picker>) -> &'static str {
    match picker.map(Picker::protocol_type) {
        None => "off",
        Some(ProtocolType::Halfblocks) => "half-blocks",
        Some(ProtocolType::Sixel) => "sixel",
        Some(ProtocolType::Kitty) => "kitty",
        Some(ProtocolType::Iterm2) => "iTerm2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_that_reports_no_graphics_gets_half_blocks() {
        let p = choose::<&str>(Err("no answer"));
        assert_eq!(p.protocol_type(), ProtocolType::Halfblocks);
        assert_eq!(describe(Some(&p)), "half-blocks");
        assert_eq!(describe(None), "off");
        // Not a terminal at all (as under `cargo test`): the query fails, half-blocks remain.
        let queried = picker(ImageMode::Auto).map(|p| p.protocol_type());
        assert!(matches!(
            queried,
            Some(
                ProtocolType::Halfblocks
                    | ProtocolType::Kitty
                    | ProtocolType::Sixel
                    | ProtocolType::Iterm2
            )
        ));
        assert!(picker(ImageMode::Off).is_none());
        assert_eq!("halfblocks".parse(), Ok(ImageMode::Halfblocks));
        assert!("sixels".parse::<ImageMode>().is_err());
        let kitty = picker("kitty".parse().unwrap()).unwrap();
        assert_eq!(describe(Some(&kitty)), "kitty");
    }

    #[test]
    fn only_terminals_known_to_answer_are_asked() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(graphics_terminal(env(&[("TERM", "xterm-kitty")])));
        assert!(graphics_terminal(env(&[("TERM_PROGRAM", "WezTerm")])));
        assert!(graphics_terminal(env(&[("TERM_PROGRAM", "iTerm.app")])));
        assert!(!graphics_terminal(env(&[("TERM", "xterm-256color")])));
        assert!(!graphics_terminal(env(&[])));
        assert!(!graphics_terminal(env(&[
            ("TERM", "xterm-kitty"),
            ("TMUX", "/tmp/tmux-0/default,1,0")
        ])));
        assert!(!graphics_terminal(env(&[
            ("TERM", "screen-256color"),
            ("KITTY_WINDOW_ID", "1")
        ])));
    }
}
