//! Secret files a server keeps outside its database (the link key, the audit key): 32
//! random bytes as 64 hex digits, made mode 0600 on first use, and made the owner's alone,
//! with a warning, if others could read them.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the key {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the key {0} is damaged (expected 64 hex digits)")]
    Damaged(String),
    #[error("no secure random numbers available")]
    Random,
}

/// A secret read from its file, and whether this call made the file.
pub struct Secret {
    pub bytes: Vec<u8>,
    pub created: bool,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the secret in `path`, making it the first time.
pub fn load_or_create(path: &Path) -> Result<Secret, KeyError> {
    match load(path) {
        Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            let bytes = crate::random::bytes::<32>().map_err(|_| KeyError::Random)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::fsutil::private_dir(dir).map_err(io_error(path))?;
            }
            crate::fsutil::write_private(path, crate::domain::text::hex(&bytes).as_bytes())
                .map_err(io_error(path))?;
            Ok(Secret {
                bytes: bytes.to_vec(),
                created: true,
            })
        }
        other => other.map(|bytes| Secret {
            bytes,
            created: false,
        }),
    }
}

/// Reads the secret in `path`, which must exist.
pub fn load(path: &Path) -> Result<Vec<u8>, KeyError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    if crate::fsutil::tighten(path).map_err(io_error(path))? {
        tracing::warn!(
            path = %path.display(),
            "the key could be read by others; it is now the owner's alone (if anyone did read \
             it, replace it)"
        );
    }
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| KeyError::Damaged(path.display().to_string()))
}
