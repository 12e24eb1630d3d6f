//! Where the console's reviewer token comes from, most explicit first: the deprecated
//! `--token` flag (with a warning: it shows in `ps`), `--token-file`, the
//! PROCTOR_REVIEW_TOKEN environment variable, the config file's `token_file` or `token`,
//! and last a prompt that does not echo.

use super::Reach;
use anyhow::{Context, bail};
use proctor_review::config::ConfigFile;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn find(args: &Reach, cfg: &ConfigFile) -> anyhow::Result<String> {
    if let Some(t) = &args.token {
        eprintln!(
            "warning: --token puts the token in the process list (ps); use --token-file or PROCTOR_REVIEW_TOKEN instead"
        );
        return Ok(t.clone());
    }
    if let Some(path) = &args.token_file {
        return from_file(path);
    }
    if let Ok(t) = std::env::var("PROCTOR_REVIEW_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok(t.trim().to_owned());
    }
    if let Some(path) = &cfg.token_file {
        return from_file(path);
    }
    if let Some(t) = &cfg.token {
        return Ok(t.clone());
    }
    if std::io::stdin().is_terminal() {
        return prompt();
    }
    bail!(
        "--server needs a reviewer token: use --token-file FILE, set PROCTOR_REVIEW_TOKEN, or put `token_file` in the config file"
    )
}

fn from_file(path: &Path) -> anyhow::Result<String> {
    if proctor_review::fsutil::readable_by_others(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?
    {
        bail!(
            "the token file {} can be read by others; make it yours alone: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    let token = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = token.trim();
    if token.is_empty() {
        bail!("the token file {} is empty", path.display());
    }
    Ok(token.to_owned())
}

/// Reads the token from the terminal without showing it.
fn prompt() -> anyhow::Result<String> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, read};
    let mut err = std::io::stderr();
    write!(err, "Reviewer token (not shown): ")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let result = (|| -> std::io::Result<Option<String>> {
        let mut token = String::new();
        loop {
            if let Event::Key(k) = read()?
                && k.kind != KeyEventKind::Release
            {
                match k.code {
                    KeyCode::Enter => return Ok(Some(token)),
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        return Ok(None);
                    }
                    KeyCode::Esc => return Ok(None),
                    KeyCode::Backspace => {
                        token.pop();
                    }
                    KeyCode::Char(c) => token.push(c),
                    _ => {}
                }
            }
        }
    })();
    let _ = crossterm::terminal::disable_raw_mode();
    writeln!(err)?;
    match result {
        Ok(Some(t)) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        Ok(_) => bail!("no token given"),
        Err(e) => Err(e.into()),
    }
}
