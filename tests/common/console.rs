//! The console binary in a pseudo-terminal, as a reviewer runs it.

use super::pty::Pty;
use portable_pty::CommandBuilder;

/// The console binary in a pseudo-terminal, isolated from the user's own data and config.
pub struct Console(Pty);

impl std::ops::Deref for Console {
    type Target = Pty;
    fn deref(&self) -> &Pty {
        &self.0
    }
}

impl std::ops::DerefMut for Console {
    fn deref_mut(&mut self) -> &mut Pty {
        &mut self.0
    }
}

impl Console {
    pub fn start(args: &[&str], data_dir: &std::path::Path) -> Self {
        Self::start_with(args, data_dir, &[])
    }

    pub fn start_with(args: &[&str], data_dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        Self::start_sized(args, data_dir, env, (80, 24))
    }

    /// On a terminal of `size` (columns, rows).
    pub fn start_sized(
        args: &[&str],
        data_dir: &std::path::Path,
        env: &[(&str, &str)],
        size: (u16, u16),
    ) -> Self {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_proctor-review"));
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("NO_COLOR", "1");
        // Emails go out at once unless a test is about undo.
        if !env
            .iter()
            .any(|(k, _)| *k == "PROCTOR_REVIEW_DEMO_UNDO_GRACE_SECS")
        {
            cmd.env("PROCTOR_REVIEW_DEMO_UNDO_GRACE_SECS", "0");
        }
        cmd.env("PROCTOR_REVIEW_DATA_DIR", data_dir);
        cmd.env("PROCTOR_REVIEW_CONFIG", data_dir.join("none.toml"));
        Self(Pty::spawn_sized(cmd, size.0, size.1))
    }

    /// Opens the demo's Midterm Exam and returns the screen once its sessions show.
    pub fn open_midterm(&mut self, expect: &str) -> String {
        self.wait_for("Midterm Exam");
        self.keys("jj\r");
        // The table header appears with the first rows, not with the exam's title.
        self.wait_for("Viol");
        self.wait_for(expect)
    }

    pub fn quit(&mut self) {
        self.keys("q");
        let status = self.finish();
        assert!(status.success(), "console exit: {status:?}");
    }
}
