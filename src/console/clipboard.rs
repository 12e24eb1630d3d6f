//! Copying to the clipboard of the terminal the reviewer sits at, wherever the console
//! runs: an OSC 52 request travels with the screen's output, so it reaches a desktop's
//! clipboard over SSH too. Terminals that ignore it (and tmux without `set-clipboard on`)
//! leave it unseen; the console also keeps what was copied in its message log.

use base64::Engine;
use std::io::Write;

/// The OSC 52 request putting `text` on the clipboard (`c`).
pub fn request(text: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{data}\x07")
}

/// Writes the request for `text` to the terminal, between two frames.
pub fn copy(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    out.write_all(request(text).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_request_carries_the_text_in_base64() {
        assert_eq!(
            super::request("https://x/m/1?sig=a"),
            "\x1b]52;c;aHR0cHM6Ly94L20vMT9zaWc9YQ==\x07"
        );
    }
}
