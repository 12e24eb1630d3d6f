//! A program in a real pseudo-terminal, with what it draws parsed as a terminal would.
//! Shared by the end-to-end tests and the latency bench.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Long enough for a cold debug build on a busy machine; only guards against a hang.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Pty {
    pub parser: vt100::Parser,
    /// Every byte the program wrote, in order.
    pub output: Vec<u8>,
    pub master: Box<dyn MasterPty + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    rx: Receiver<Vec<u8>>,
    writer: Box<dyn Write + Send>,
}

impl Pty {
    /// Starts `cmd` on a fresh 80x24 terminal.
    pub fn spawn(cmd: CommandBuilder) -> Self {
        Self::spawn_sized(cmd, 80, 24)
    }

    pub fn spawn_sized(mut cmd: CommandBuilder, cols: u16, rows: u16) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Linux reports the child side closing as EIO, which ends this loop too.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            parser: vt100::Parser::new(rows, cols, 0),
            output: Vec::new(),
            master: pty.master,
            child,
            rx,
            writer,
        }
    }

    fn take(&mut self, bytes: Vec<u8>) {
        self.parser.process(&bytes);
        self.output.extend(bytes);
    }

    pub fn text(&self) -> String {
        self.parser.screen().contents()
    }

    /// Reads output until the screen satisfies `done`.
    pub fn until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text();
            if done(&text) {
                return text;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(bytes) => self.take(bytes),
                Err(RecvTimeoutError::Timeout) => panic!("{what} never appeared; screen:\n{text}"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the program exited before {what}; screen:\n{text}")
                }
            }
        }
    }

    pub fn wait_for(&mut self, needle: &str) -> String {
        self.until(&format!("'{needle}'"), |s| s.contains(needle))
    }

    pub fn keys(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Waits for the program to exit and collects everything it wrote.
    pub fn finish(&mut self) -> portable_pty::ExitStatus {
        let status = self.child.wait().expect("wait for child");
        while let Ok(bytes) = self.rx.recv_timeout(PATIENCE) {
            self.take(bytes);
        }
        status
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
