//! How evidence images are drawn in the terminal: kitty, sixel or iTerm2 graphics where the
//! terminal answers that it has them, half-blocks (two pixels a cell, any colour terminal)
//! everywhere else, including tmux and terminals that do not answer.

use ratatui_image::picker::cap_parser::QueryStdioOptions;
use ratatui_image::picker::{Picker, ProtocolType};
use std::str::FromStr;
use std::time::Duration;

/// How long to wait for the terminal to say what it can draw; a terminal that says nothing
/// gets half-blocks after this.
const QUERY_TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImageMode {
    /// Ask the terminal, fall back to half-blocks.
    #[default]
    Auto,
    Halfblocks,
    Off,
}

impl FromStr for ImageMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "halfblocks" => Ok(Self::Halfblocks),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "'{other}' is not an image mode: auto, halfblocks or off"
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
        ImageMode::Auto => Some(choose(Picker::from_query_stdio_with_options(
            QueryStdioOptions {
                timeout: QUERY_TIMEOUT,
                ..Default::default()
            },
        ))),
    }
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
    }
}
