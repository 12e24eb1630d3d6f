//! Where things live, and the optional config file (`server`, `token`, `mouse`, `[keys]`).

use anyhow::Context;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub server: Option<String>,
    pub token: Option<String>,
    /// A file holding the token (mode 0600), instead of `token`.
    pub token_file: Option<PathBuf>,
    pub mouse: Option<bool>,
    /// A private certificate authority's PEM file, trusted beside the system's.
    pub ca_file: Option<PathBuf>,
    /// Where downloaded reports and exports are saved.
    pub export_dir: Option<PathBuf>,
    /// The reviewer's own keys: `fail = ["x"]`, `"reports.cancel" = "Esc"`, `pass = []`.
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<KeyList>>,
    /// The file's text, to turn positions into line numbers.
    #[serde(skip)]
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

/// One line of `[keys]`: an action (perhaps `place.action`) and the keys that do it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub name: String,
    pub keys: Vec<String>,
    pub line: usize,
}

impl ConfigFile {
    /// The `[keys]` entries in file order, each with its line.
    pub fn key_entries(&self) -> Vec<KeyEntry> {
        let mut out: Vec<KeyEntry> = self
            .keys
            .iter()
            .map(|(name, keys)| KeyEntry {
                name: name.get_ref().clone(),
                keys: match keys.get_ref() {
                    KeyList::One(k) => vec![k.clone()],
                    KeyList::Many(ks) => ks.clone(),
                },
                line: line_of(&self.text, name.span().start),
            })
            .collect();
        out.sort_by_key(|e| e.line);
        out
    }
}

/// The 1-based line holding byte `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |t| t.matches('\n').count()) + 1
}

pub struct Paths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    /// `data_dir` overrides the platform's data directory (tests and multiple demos use it).
    pub fn resolve(data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let dirs = directories::ProjectDirs::from("org", "proctor-review", "proctor-review");
        let data_dir = match (data_dir, &dirs) {
            (Some(d), _) => d,
            (None, Some(p)) => p.data_dir().to_owned(),
            (None, None) => anyhow::bail!("cannot find a home directory; pass --data-dir"),
        };
        let config_file = dirs
            .map(|p| p.config_dir().join("config.toml"))
            .unwrap_or_else(|| data_dir.join("config.toml"));
        Ok(Self {
            data_dir,
            config_file,
        })
    }

    pub fn demo_db(&self) -> PathBuf {
        self.data_dir.join("demo.sqlite3")
    }

    pub fn outbox(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    /// The default export folder: `proctor-review` in the user's downloads, else in the
    /// data directory.
    pub fn default_export_dir(&self) -> PathBuf {
        directories::UserDirs::new()
            .and_then(|u| u.download_dir().map(|d| d.join("proctor-review")))
            .unwrap_or_else(|| self.data_dir.join("exports"))
    }

    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("proctor-review.log")
    }
}

/// Reads the config file if there is one. A broken file is an error that names the file
/// and line, never silently ignored.
pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut cfg: ConfigFile =
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    if cfg.token.is_some() && crate::fsutil::readable_by_others(path)? {
        anyhow::bail!(
            "{} holds a reviewer token but others can read it; make it yours alone: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    cfg.text = text;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_entries_keep_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "mouse = true\n\n[keys]\nfail = \"x\"\npass = []\n\"reports.cancel\" = [\"Esc\", \"Ctrl-g\"]\n",
        )
        .unwrap();
        let entries = load(&path).unwrap().key_entries();
        let short: Vec<_> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.keys.len(), e.line))
            .collect();
        assert_eq!(
            short,
            [("fail", 1, 4), ("pass", 0, 5), ("reports.cancel", 2, 6)]
        );
        std::fs::write(&path, "[keys]\nfail = 3\n").unwrap();
        let err = format!("{:#}", load(&path).unwrap_err());
        assert!(err.contains("line 2"), "{err}");
    }
}
