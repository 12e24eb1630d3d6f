//! The docs stay true to the program (issue #23 item 11): every `proctor-review …` command
//! written in the README or `docs/` names a real command, and every flag it uses is one
//! that command's `--help` lists.

use std::collections::HashMap;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_proctor-review");
/// Accepted but kept out of `--help`: the deprecated `--token` (it shows in `ps`).
const HIDDEN: &[&str] = &["--token", "--help", "--version"];

fn pages() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("a docs folder")
        .map(|e| e.expect("a docs entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable page");
            (p.display().to_string(), text)
        })
        .collect()
}

/// The `proctor-review …` commands of a page: lines of its code blocks (with `\`
/// continuations joined, comments dropped) and inline code spans.
fn commands(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut joined = String::new();
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            joined.push_str(line.split(" #").next().unwrap_or_default().trim_end());
            if joined.ends_with('\\') {
                joined.pop();
                joined.push(' ');
                continue;
            }
            out.extend(from(&joined));
            joined.clear();
        } else {
            for (i, span) in line.split('`').enumerate() {
                if i % 2 == 1 {
                    out.extend(from(span));
                }
            }
        }
    }
    out
}

fn from(text: &str) -> Option<String> {
    let at = text.find("proctor-review ")?;
    // A word of another command (`cargo run … proctor-review`) or a path is not a command.
    let before = &text[..at];
    if !(before.is_empty() || before.ends_with(' ') || before.ends_with('\'')) {
        return None;
    }
    Some(text[at..].to_owned())
}

fn help(subcommands: &[&str], cache: &mut HashMap<Vec<String>, Option<String>>) -> Option<String> {
    let key: Vec<String> = subcommands.iter().map(|s| s.to_string()).collect();
    cache
        .entry(key)
        .or_insert_with(|| {
            let out = Command::new(BIN)
                .args(subcommands)
                .arg("--help")
                .output()
                .expect("the binary runs");
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .clone()
}

#[test]
fn every_documented_command_and_flag_is_in_the_help() {
    let mut cache = HashMap::new();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (file, text) in pages() {
        for cmd in commands(&text) {
            let words: Vec<&str> = cmd.split_whitespace().skip(1).collect();
            let subs: Vec<&str> = words
                .iter()
                .take_while(|w| {
                    w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
                })
                .take(2)
                .copied()
                .collect();
            // The longest run of words that is a command ("reviewer add", or "serve").
            let (subs, page) = match (1..=subs.len())
                .rev()
                .find_map(|n| help(&subs[..n], &mut cache).map(|h| (&subs[..n], h)))
            {
                Some(found) => found,
                None if subs.is_empty() => (&subs[..], help(&[], &mut cache).expect("top help")),
                None => {
                    problems.push(format!("{file}: `{cmd}` names no command"));
                    continue;
                }
            };
            checked += 1;
            for flag in words.iter().filter_map(|w| {
                let w = w.trim_start_matches(['[', '(']);
                let name: String = w
                    .strip_prefix("--")?
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                (!name.is_empty()).then(|| format!("--{name}"))
            }) {
                let listed = page
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[')
                    .any(|w| w == flag);
                if !listed && !HIDDEN.contains(&flag.as_str()) {
                    problems.push(format!(
                        "{file}: `{cmd}`: `proctor-review {}` has no {flag}",
                        subs.join(" ")
                    ));
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} commands found in the docs");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
