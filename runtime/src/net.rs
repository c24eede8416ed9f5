//! The one way outdial builds outbound HTTP clients.

/// A reqwest client builder with rustls on ring for TLS. reqwest is built
/// without a default crypto provider (so only one is compiled in), and a
/// client built before one is installed panics: every client starts here.
pub fn http_client() -> reqwest::ClientBuilder {
    // Installing again is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
