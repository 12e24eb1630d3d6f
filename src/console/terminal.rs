//! Puts the terminal into raw, alternate-screen, bracketed-paste mode and guarantees it
//! comes back out: on quit, on error (the guard's Drop) and on panic (the hook).

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout, stdout};

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

pub struct TerminalGuard {
    pub terminal: Tui,
}

/// Raw mode, alternate screen, bracketed paste and, if asked, the mouse: the console's terminal.
fn take(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        execute!(stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

pub fn restore() {
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

impl TerminalGuard {
    /// `mouse` captures the mouse, which also turns off the terminal's own text selection.
    pub fn enter(mouse: bool) -> io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        let guard = Self {
            terminal: Terminal::new(CrosstermBackend::new(stdout()))?,
        };
        take(mouse)?;
        Ok(guard)
    }
}

impl TerminalGuard {
    /// Gives the terminal back to the shell and stops the process as Ctrl-z would outside
    /// raw mode; when the shell resumes it (`fg`), takes the terminal again and redraws.
    pub fn suspend(&mut self, mouse: bool) -> io::Result<()> {
        restore();
        signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
        take(mouse)?;
        self.terminal.clear()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
