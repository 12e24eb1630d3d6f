//! Log lines carry data from outside (usernames, the LMS's error messages, client ids). Every
//! line goes through the console's sanitizer on its way to the file or stderr, so an escape
//! sequence or a forged newline in a field can neither drive a terminal that shows the log
//! nor fake a log line.

use crate::domain::text::printable;
use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// Wraps a [`MakeWriter`]; each event's text is sanitized before it is written.
pub struct Sanitized<M>(pub M);

pub struct SanitizedWriter<W>(W);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Sanitized<M> {
    type Writer = SanitizedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        SanitizedWriter(self.0.make_writer())
    }
}

/// One event's text, each line made printable; the line breaks between lines are kept.
pub fn sanitize(text: &str) -> String {
    let (body, newline) = match text.strip_suffix('\n') {
        Some(b) => (b, "\n"),
        None => (text, ""),
    };
    format!("{}{newline}", printable(body))
}

impl<W: Write> Write for SanitizedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(sanitize(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn a_field_cannot_drive_the_terminal_or_forge_a_line() {
        let line = "INFO decision recorded reviewer=ev\u{1b}[31mil\nINFO forged\n";
        let clean = sanitize(line);
        assert!(!clean.contains('\u{1b}'));
        assert_eq!(clean.matches('\n').count(), 1, "{clean}");
        assert!(clean.ends_with("forged\n"));
    }
}
