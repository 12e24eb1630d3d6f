//! `serve --config FILE`: the server's settings from a TOML file an operator keeps in
//! `/etc` (see `deploy/config.toml`), one key per flag, named as the flag is without its
//! dashes: `listen = "0.0.0.0:8750"`, `keep-evidence = "180d"`, `create = true`. The file's
//! settings come first, so a flag on the command line wins. A key that is no setting is
//! refused by name, so a typo never passes unnoticed.

use anyhow::{Context, bail};
use std::ffi::OsString;
use std::path::Path;

/// The arguments with `serve --config FILE` replaced by the file's settings.
pub fn expand(args: Vec<OsString>, known: &[String]) -> anyhow::Result<Vec<OsString>> {
    let Some(serve) = args.iter().position(|a| a == "serve") else {
        return Ok(args);
    };
    let mut file = None;
    let mut rest = Vec::with_capacity(args.len());
    let mut i = serve + 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--config" {
            file = Some(args.get(i + 1).context("--config needs a file")?.clone());
            i += 2;
            continue;
        }
        if let Some(f) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            file = Some(f.into());
            i += 1;
            continue;
        }
        rest.push(a.clone());
        i += 1;
    }
    let Some(file) = file else { return Ok(args) };
    let settings = read(Path::new(&file), known)?;
    let mut out: Vec<OsString> = args[..=serve].to_vec();
    out.extend(settings);
    out.extend(rest);
    Ok(out)
}

fn read(path: &Path, known: &[String]) -> anyhow::Result<Vec<OsString>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let mut out = Vec::new();
    for (key, value) in table {
        if key == "config" || !known.contains(&key) {
            bail!(
                "{}: '{key}' is not a serve setting (see `proctor-review serve --help`)",
                path.display()
            );
        }
        let flag = format!("--{key}");
        match value {
            toml::Value::Boolean(true) => out.push(flag.into()),
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => {
                out.push(flag.into());
                out.push(s.into());
            }
            toml::Value::Integer(n) => {
                out.push(flag.into());
                out.push(n.to_string().into());
            }
            other => bail!(
                "{}: '{key}' must be a string, a number or true/false, not {}",
                path.display(),
                other.type_str()
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["listen", "create", "keep-evidence", "max-media-mib"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_files_settings_come_before_the_command_lines() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("serve.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:1\"\ncreate = true\nmax-media-mib = 50\nkeep-evidence = \"180d\"\n",
        )
        .unwrap();
        let args: Vec<OsString> = [
            "pr",
            "serve",
            "--config",
            f.to_str().unwrap(),
            "--listen",
            "x",
        ]
        .map(OsString::from)
        .to_vec();
        let got = expand(args, &known()).unwrap();
        let got: Vec<&str> = got.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            got,
            [
                "pr",
                "serve",
                "--create",
                "--keep-evidence",
                "180d",
                "--listen",
                "0.0.0.0:1",
                "--max-media-mib",
                "50",
                "--listen",
                "x"
            ]
        );
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("serve.toml");
        std::fs::write(&f, "lisen = \"0.0.0.0:1\"\n").unwrap();
        let args = ["pr", "serve", "--config", f.to_str().unwrap()].map(OsString::from);
        let e = expand(args.to_vec(), &known()).unwrap_err().to_string();
        assert!(e.contains("'lisen' is not a serve setting"), "{e}");
    }
}
