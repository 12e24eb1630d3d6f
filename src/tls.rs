//! The process's TLS: rustls with ring, never OpenSSL. reqwest and the PostgreSQL driver
//! are built without a default crypto provider, so every client installs this one first.

/// Installs ring as the process's crypto provider, once (later calls do nothing).
pub fn ready() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
