//! The terminal comes back as it was when the console panics or fails: raw mode off, main
//! screen back, bracketed paste off, and the panic message readable. This test runs its own
//! `console_that_panics` child in a pseudo-terminal and inspects the terminal afterwards.

mod common;

use common::pty::Pty;
use portable_pty::CommandBuilder;
use proctor_review::console::terminal::TerminalGuard;

const CHILD: &str = "PROCTOR_REVIEW_RESTORE_CHILD";

/// Not a test on its own: the child process the tests below start.
#[test]
#[ignore = "run by the tests below inside a pseudo-terminal"]
fn console_that_fails() {
    let guard = TerminalGuard::enter(true).expect("terminal");
    match std::env::var(CHILD).as_deref() {
        Ok("panic") => panic!("boom from the console"),
        _ => {
            drop(guard);
            eprintln!("error: the review server went away");
            std::process::exit(1);
        }
    }
}

struct Outcome {
    screen: vt100::Parser,
    /// Everything written from the first time the console left the alternate screen.
    after_restore: String,
    raw_mode_left_on: bool,
}

fn run_child(mode: &str) -> Outcome {
    let mut cmd = CommandBuilder::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "console_that_fails", "--ignored", "--nocapture"]);
    cmd.env(CHILD, mode);
    // A backtrace would only add noise to what this test reads.
    cmd.env("RUST_BACKTRACE", "0");
    let mut pty = Pty::spawn(cmd);
    pty.finish();
    const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
    let out = &pty.output;
    let after = out
        .windows(LEAVE_ALT.len())
        .position(|w| w == LEAVE_ALT)
        .map(|i| String::from_utf8_lossy(&out[i..]).into_owned())
        .unwrap_or_default();
    let fd = pty.master.as_raw_fd().expect("unix pty");
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is the open master of this pty and `t` a valid termios to fill.
    assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0);
    let mut screen = vt100::Parser::new(24, 80, 0);
    screen.process(out);
    Outcome {
        screen,
        after_restore: after,
        raw_mode_left_on: t.c_lflag & (libc::ICANON | libc::ECHO) == 0,
    }
}

#[test]
fn a_panic_restores_the_terminal_and_shows_the_message() {
    let o = run_child("panic");
    let s = o.screen.screen();
    assert!(!o.raw_mode_left_on, "raw mode left on after a panic");
    assert!(!s.alternate_screen(), "still on the alternate screen");
    assert!(!s.bracketed_paste(), "bracketed paste left on");
    assert_eq!(
        s.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "mouse capture left on"
    );
    assert!(
        o.after_restore.contains("boom from the console"),
        "the panic message must follow the restore: {:?}",
        o.after_restore
    );
}

#[test]
fn an_error_restores_the_terminal_before_it_is_reported() {
    let o = run_child("error");
    let s = o.screen.screen();
    assert!(!o.raw_mode_left_on);
    assert!(!s.alternate_screen());
    assert!(
        o.after_restore.contains("the review server went away"),
        "{:?}",
        o.after_restore
    );
}
