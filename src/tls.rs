//! The process's TLS: rustls with ring, never OpenSSL. reqwest and the PostgreSQL driver
//! are built without a default crypto provider, so every client installs this one first.

/// Installs ring as the process's crypto provider, once (later calls do nothing).
pub fn ready() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Certificate authorities trusted beside the system's (`--ca-file`): an institution's
/// private CA for its review server, its Open edX or its SMTP relay.
#[derive(Clone, Default)]
pub struct ExtraRoots {
    /// For reqwest (Open edX, the identity provider, the review server).
    http: Vec<reqwest::Certificate>,
    /// The same certificates for rustls directly (the SMTP relay).
    der: Vec<rustls::pki_types::CertificateDer<'static>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error("cannot read the CA file {}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", .0.display())]
    Empty(std::path::PathBuf),
    #[error("{} holds a certificate that cannot be used", path.display())]
    Bad {
        path: std::path::PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error("{} is not a PEM certificate bundle", path.display())]
    Pem {
        path: std::path::PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
}

impl ExtraRoots {
    pub fn read(path: &std::path::Path) -> Result<Self, CaFileError> {
        let pem = std::fs::read(path).map_err(|source| CaFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let der = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| CaFileError::Pem {
                path: path.to_owned(),
                source,
            })?;
        if der.is_empty() {
            return Err(CaFileError::Empty(path.to_owned()));
        }
        // The same certificates for reqwest, from the DER already read.
        let http = der
            .iter()
            .map(|d| reqwest::Certificate::from_der(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| CaFileError::Bad {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self { http, der })
    }

    /// A client builder that trusts these as well as the system's authorities.
    pub fn trusted_by(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder.tls_certs_merge(self.http.iter().cloned())
    }

    /// These certificates, DER-encoded.
    pub fn der(&self) -> &[rustls::pki_types::CertificateDer<'static>] {
        &self.der
    }

    /// A rustls client configuration that trusts these as well as the system's authorities.
    pub fn rustls_config(&self) -> Result<rustls::ClientConfig, rustls::Error> {
        ready();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.der.iter().cloned(),
            provider.clone(),
        )?;
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(verifier))
            .with_no_client_auth())
    }
}

/// Why a server's certificate was refused, if that is what failed. rustls's error travels
/// inside an `io::Error`, whose `source` skips it, so each one is opened.
pub fn certificate_refused(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|i| i as &(dyn std::error::Error + 'static));
        for candidate in [Some(err), inner].into_iter().flatten() {
            if let Some(rustls::Error::InvalidCertificate(why)) =
                candidate.downcast_ref::<rustls::Error>()
            {
                return Some(format!("{why:?}"));
            }
        }
        cur = inner.or_else(|| err.source());
    }
    None
}
