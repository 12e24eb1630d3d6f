//! Where things live, and the optional config file (`server`, `token`, `mouse`).

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub server: Option<String>,
    pub token: Option<String>,
    /// A file holding the token (mode 0600), instead of `token`.
    pub token_file: Option<PathBuf>,
    pub mouse: Option<bool>,
    /// Where downloaded reports and exports are saved.
    pub export_dir: Option<PathBuf>,
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
    let cfg: ConfigFile =
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    if cfg.token.is_some() && crate::fsutil::readable_by_others(path)? {
        anyhow::bail!(
            "{} holds a reviewer token but others can read it; make it yours alone: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    Ok(cfg)
}
