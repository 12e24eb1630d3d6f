//! Named ANSI colours, so the console follows the user's terminal theme. Colour only ever
//! repeats what a glyph or word already says; with `NO_COLOR` set there is none at all.

use crate::domain::AttemptStatus;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Honours <https://no-color.org>: any non-empty `NO_COLOR` turns colour off.
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub const fn plain() -> Self {
        Self { color: false }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn attention(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn passed(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn failed(&self) -> Style {
        self.fg(Color::Red)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new()
        }
    }

    pub fn heading(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Reverse video is visible on every theme and without colour; a ▶ marker goes with it.
    pub fn selected(&self, focused: bool) -> Style {
        if focused {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.dim()
        }
    }

    pub fn status(&self, st: AttemptStatus) -> Style {
        match st {
            AttemptStatus::SecondReviewRequired => self.attention(),
            AttemptStatus::Verified => self.passed(),
            AttemptStatus::Rejected => self.failed(),
            AttemptStatus::Error => self.fg(Color::Magenta),
            _ => Style::new(),
        }
    }
}
