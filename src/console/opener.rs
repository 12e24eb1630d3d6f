//! Handing evidence to the system's viewer. The opener is one injectable piece, so tests
//! see exactly what would be opened; and only a link to the configured server is ever
//! handed over, whatever the server answered.

use crate::client::ApiClient;

pub trait Opener: Send + Sync + 'static {
    fn open(&self, url: &str) -> std::io::Result<()>;
}

/// `xdg-open`, `open` or `start`, detached, its output discarded so it never writes over
/// the console.
pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> std::io::Result<()> {
        open::that_detached(url)
    }
}

/// The URL to open: the signed link with its media fragment, if it points at our server.
pub fn target(client: &ApiClient, link: &str, fragment: Option<&str>) -> Result<String, String> {
    if !client.same_origin(link) {
        return Err(format!(
            "refused to open a link that does not point at {} ({})",
            client.server_label(),
            crate::domain::text::printable(&link.chars().take(60).collect::<String>())
        ));
    }
    let fragment = fragment
        .filter(|f| f.starts_with("#t=") && f[3..].chars().all(|c| c.is_ascii_digit() || c == ','));
    Ok(format!("{link}{}", fragment.unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_links_to_the_configured_server_are_opened() {
        let c = ApiClient::new("http://127.0.0.1:8750", "t").unwrap();
        let ok = "http://127.0.0.1:8750/api/v1/media/3/file?expires=1&reviewer=1&signature=ab";
        assert_eq!(
            target(&c, ok, Some("#t=4,9")).unwrap(),
            format!("{ok}#t=4,9")
        );
        assert_eq!(target(&c, ok, None).unwrap(), ok);
        assert_eq!(
            target(&c, ok, Some("#evil")).unwrap(),
            ok,
            "only time fragments"
        );
        for bad in [
            "http://127.0.0.1:8751/api/v1/media/3/file",
            "https://127.0.0.1:8750/api/v1/media/3/file",
            "http://evil.example/api/v1/media/3/file",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "/api/v1/media/3/file",
            "",
        ] {
            let e = target(&c, bad, None).unwrap_err();
            assert!(e.starts_with("refused to open"), "{bad}: {e}");
        }
    }
}
