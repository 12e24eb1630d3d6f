//! The server's own TLS (`serve --tls-cert F --tls-key F`): rustls with ring, PEM files, and
//! a reload on SIGHUP. A renewed certificate is read while the server runs; connections
//! already open keep the configuration they were accepted with, so none is dropped, and a
//! file that does not load leaves the one in use in place.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

/// Where the certificate chain and its private key are read from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)", .0.display())]
    NoCertificate(PathBuf),
    #[error("{} holds no private key (expected PEM: -----BEGIN PRIVATE KEY-----)", .0.display())]
    NoKey(PathBuf),
    #[error("{} and {} do not make a usable certificate", files.cert.display(), files.key.display())]
    Refused {
        files: TlsFiles,
        #[source]
        source: rustls::Error,
    },
}

/// The configuration new connections are accepted with; swapped whole on reload.
pub struct Certified {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
}

impl Certified {
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let config = read(&files)?;
        Ok(Self {
            files,
            current: RwLock::new(config),
        })
    }

    /// Reads the files again; on failure the configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = read(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }

    /// Reloads on every SIGHUP, as long as the process runs.
    pub fn reload_on_hangup(self: Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match self.reload() {
                    Ok(()) => tracing::info!(
                        cert = %self.files.cert.display(),
                        "TLS certificate reloaded"
                    ),
                    Err(e) => tracing::error!(
                        error = %e,
                        "TLS certificate not reloaded; the one in use stays"
                    ),
                }
            }
        }))
    }
}

fn read(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    crate::tls::ready();
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Read { path, source }
    };
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(unreadable(&files.cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable(&files.cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey(files.key.clone()),
        e => unreadable(&files.key)(e),
    })?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|source| TlsError::Refused {
            files: files.clone(),
            source,
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(dir: &Path) -> TlsFiles {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, made.cert.pem()).unwrap();
        std::fs::write(&files.key, made.signing_key.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn wrong_files_are_named_and_a_failed_reload_keeps_what_works() {
        let dir = tempfile::tempdir().unwrap();
        let files = made(dir.path());
        let swapped = TlsFiles {
            cert: files.key.clone(),
            key: files.cert.clone(),
        };
        let e = Certified::load(swapped).err().unwrap().to_string();
        assert!(e.contains("holds no certificate"), "{e}");
        let no_key = TlsFiles {
            key: files.cert.clone(),
            ..files.clone()
        };
        let e = Certified::load(no_key).err().unwrap().to_string();
        assert!(e.contains("holds no private key"), "{e}");
        let missing = TlsFiles {
            key: dir.path().join("gone.pem"),
            ..files.clone()
        };
        let e = Certified::load(missing).err().unwrap().to_string();
        assert!(
            e.starts_with("cannot read") && e.contains("gone.pem"),
            "{e}"
        );

        let certified = Certified::load(files.clone()).unwrap();
        std::fs::write(&files.key, "not a key").unwrap();
        assert!(certified.reload().is_err());
        // The configuration in use still accepts connections.
        let _ = certified.acceptor();
        made(dir.path());
        assert!(certified.reload().is_ok());
    }
}
