//! The host's HTTP client for provider-adapter plugins. Plugins only build
//! requests; this executor sends them, and only to the hosts on the
//! campaign's egress allow-list, within a timeout and a response size cap.
//! Redirects are never followed: a redirect could leave the allow-list.

use std::time::Duration;

use crate::plugin_host::wit;

/// Limits of the executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// The whole exchange, connect to last body byte. Default: 10 s.
    pub timeout: Duration,
    /// The largest response body accepted. Default: 1 MiB.
    pub max_response_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            timeout: Duration::from_secs(10),
            max_response_bytes: 1 << 20,
        }
    }
}

/// Why a request was not performed or its answer not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("request to {host} refused: not on the campaign's allowed_hosts ({allowed})")]
    NotAllowed { host: String, allowed: String },
    #[error("the plugin built an unusable request: {0}")]
    BadRequest(String),
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("the answer is larger than the {0} byte cap")]
    TooLarge(usize),
    /// The connection failed before the request was sent.
    #[error("the request failed: {0}")]
    Transport(String),
    /// The request was sent, or may have been, and its answer was lost.
    #[error("the request was sent and its answer lost: {0}")]
    Unanswered(String),
}

impl EgressError {
    /// True when the plugin, not the network, is at fault.
    pub fn is_plugin_fault(&self) -> bool {
        matches!(
            self,
            EgressError::NotAllowed { .. } | EgressError::BadRequest(_)
        )
    }

    /// True when the far end may have received the request and acted on
    /// it: a provider may have placed the call though no call id came back.
    pub fn may_have_reached_the_provider(&self) -> bool {
        matches!(
            self,
            EgressError::Timeout(_) | EgressError::TooLarge(_) | EgressError::Unanswered(_)
        )
    }
}

/// One entry of an allow-list: `api.example.com`, `*.example.com`, with an
/// optional `:port`. Without a port only the scheme's default port matches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    /// Lower case; for a wildcard, the suffix after `*.`.
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl HostPattern {
    fn parse(raw: &str) -> Result<HostPattern, String> {
        let raw = raw.trim().to_ascii_lowercase();
        let (host, port) = match raw.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (
                host.to_string(),
                Some(port.parse::<u16>().map_err(|_| {
                    format!("allowed host \"{raw}\" has port \"{port}\", expected 1 to 65535")
                })?),
            ),
            _ => (raw.clone(), None),
        };
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(suffix) => (suffix.to_string(), true),
            None => (host, false),
        };
        if host.is_empty() || host.contains(['/', '*', '@', '?', '#']) {
            return Err(format!(
                "allowed host \"{raw}\" is not a host name, expected e.g. \"api.example.com\""
            ));
        }
        Ok(HostPattern {
            host,
            wildcard,
            port,
        })
    }

    fn matches(&self, host: &str, port: u16, default_port: u16) -> bool {
        let host_ok = if self.wildcard {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
        } else {
            host == self.host
        };
        host_ok && port == self.port.unwrap_or(default_port)
    }
}

/// Sends the requests an adapter plugin builds.
#[derive(Debug, Clone)]
pub struct HttpExecutor {
    client: reqwest::Client,
    allowed: Vec<HostPattern>,
    allowed_text: String,
    limits: HttpLimits,
}

impl HttpExecutor {
    /// An executor that may reach only `allowed_hosts`.
    pub fn new(allowed_hosts: &[String], limits: HttpLimits) -> Result<HttpExecutor, String> {
        let allowed = allowed_hosts
            .iter()
            .map(|raw| HostPattern::parse(raw))
            .collect::<Result<Vec<_>, _>>()?;
        // rustls needs a process-wide crypto provider; ring is pure enough
        // to build everywhere. A provider installed earlier stays.
        let client = crate::net::http_client()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.timeout)
            .timeout(limits.timeout)
            .user_agent(concat!("outdial/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("the HTTP client could not be built: {err}"))?;
        Ok(HttpExecutor {
            client,
            allowed,
            allowed_text: allowed_hosts.join(", "),
            limits,
        })
    }

    /// Whether `url` may be requested; the host name it names otherwise.
    pub fn check(&self, url: &reqwest::Url) -> Result<(), EgressError> {
        let scheme_port = match url.scheme() {
            "https" => 443,
            "http" => 80,
            other => {
                return Err(EgressError::BadRequest(format!(
                    "scheme \"{other}\" is not http or https"
                )));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| EgressError::BadRequest(format!("\"{url}\" names no host")))?
            .to_ascii_lowercase();
        let port = url.port().unwrap_or(scheme_port);
        if self
            .allowed
            .iter()
            .any(|pattern| pattern.matches(&host, port, scheme_port))
        {
            return Ok(());
        }
        let shown = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        Err(EgressError::NotAllowed {
            host: shown,
            allowed: if self.allowed_text.is_empty() {
                "none".to_string()
            } else {
                self.allowed_text.clone()
            },
        })
    }

    /// Perform `request`, within the allow-list, timeout and size cap.
    pub async fn execute(
        &self,
        request: &wit::HttpRequest,
    ) -> Result<wit::HttpResponse, EgressError> {
        let url = reqwest::Url::parse(&request.url)
            .map_err(|err| EgressError::BadRequest(format!("URL \"{}\": {err}", request.url)))?;
        self.check(&url)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            EgressError::BadRequest(format!(
                "method \"{}\" is not an HTTP method",
                request.method
            ))
        })?;
        let mut builder = self.client.request(method, url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let exchange = async {
            let mut response = builder
                .body(request.body.clone())
                .send()
                .await
                .map_err(|err| self.transport(err))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
                })
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|err| self.transport(err))? {
                if body.len() + chunk.len() > self.limits.max_response_bytes {
                    return Err(EgressError::TooLarge(self.limits.max_response_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(wit::HttpResponse {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.limits.timeout, exchange)
            .await
            .unwrap_or(Err(EgressError::Timeout(self.limits.timeout)))
    }

    fn transport(&self, err: reqwest::Error) -> EgressError {
        if err.is_timeout() {
            return EgressError::Timeout(self.limits.timeout);
        }
        // The URL is left out: its query may carry parameters the operator
        // would not want in logs.
        let err = err.without_url();
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        if err.is_connect() {
            EgressError::Transport(message)
        } else {
            EgressError::Unanswered(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(hosts: &[&str]) -> HttpExecutor {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        HttpExecutor::new(&hosts, HttpLimits::default()).expect("executor")
    }

    fn allowed(executor: &HttpExecutor, url: &str) -> bool {
        executor
            .check(&reqwest::Url::parse(url).expect("url"))
            .is_ok()
    }

    #[test]
    fn only_listed_hosts_on_their_ports_are_allowed() {
        let exec = executor(&["api.twilio.com", "*.voice.example", "127.0.0.1:8089"]);
        assert!(allowed(&exec, "https://api.twilio.com/2010-04-01/Accounts"));
        assert!(allowed(&exec, "https://API.Twilio.com/x"));
        assert!(!allowed(&exec, "https://api.twilio.com:8443/x"));
        assert!(!allowed(&exec, "https://evil.com/?host=api.twilio.com"));
        assert!(!allowed(&exec, "https://api.twilio.com.evil.com/x"));
        assert!(allowed(&exec, "https://eu.voice.example/call"));
        assert!(!allowed(&exec, "https://voice.example/call"));
        assert!(!allowed(&exec, "https://evilvoice.example/call"));
        assert!(allowed(&exec, "http://127.0.0.1:8089/call"));
        assert!(!allowed(&exec, "http://127.0.0.1:8090/call"));
        assert!(!allowed(&exec, "http://127.0.0.1/call"));
    }

    #[test]
    fn a_refusal_names_the_host_and_the_allow_list() {
        let exec = executor(&["api.twilio.com"]);
        let err = exec
            .check(&reqwest::Url::parse("https://collector.example.net/steal").expect("url"))
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "request to collector.example.net refused: not on the campaign's allowed_hosts (api.twilio.com)"
        );
        assert!(err.is_plugin_fault());
    }

    #[test]
    fn other_schemes_and_bad_patterns_are_refused() {
        let exec = executor(&["api.twilio.com"]);
        assert!(matches!(
            exec.check(&reqwest::Url::parse("file:///etc/passwd").expect("url")),
            Err(EgressError::BadRequest(_))
        ));
        assert!(
            HttpExecutor::new(&["api.example.com:http".to_string()], HttpLimits::default())
                .is_err()
        );
        assert!(
            HttpExecutor::new(
                &["https://api.example.com/".to_string()],
                HttpLimits::default()
            )
            .is_err()
        );
    }

    #[tokio::test]
    async fn a_request_outside_the_allow_list_is_never_sent() {
        // A listener that would record any connection: none must arrive.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let exec = executor(&["api.twilio.com"]);
        let request = wit::HttpRequest {
            method: "POST".to_string(),
            url: format!("http://127.0.0.1:{port}/exfiltrate"),
            headers: Vec::new(),
            body: b"secret".to_vec(),
        };
        assert!(matches!(
            exec.execute(&request).await,
            Err(EgressError::NotAllowed { .. })
        ));
        assert!(listener.accept().is_err(), "a connection was made");
    }

    fn post_to(port: u16) -> wit::HttpRequest {
        wit::HttpRequest {
            method: "POST".to_string(),
            url: format!("http://127.0.0.1:{port}/Calls.json"),
            headers: Vec::new(),
            body: b"To=%2B14155550100".to_vec(),
        }
    }

    #[tokio::test]
    async fn a_request_that_never_connected_cannot_have_reached_the_provider() {
        // A port nothing listens on: bound, then closed.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let exec = executor(&[&format!("127.0.0.1:{port}")]);
        let error = exec.execute(&post_to(port)).await.expect_err("refused");
        assert!(matches!(error, EgressError::Transport(_)), "{error:?}");
        assert!(!error.may_have_reached_the_provider());
    }

    #[tokio::test]
    async fn a_request_sent_and_never_answered_may_have_reached_the_provider() {
        // A server that reads the request and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let silent = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut request = vec![0; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let hosts = [format!("127.0.0.1:{port}")];
        let limits = HttpLimits {
            timeout: Duration::from_millis(200),
            ..HttpLimits::default()
        };
        let exec = HttpExecutor::new(&hosts, limits).expect("executor");
        let error = exec.execute(&post_to(port)).await.expect_err("no answer");
        assert!(matches!(error, EgressError::Timeout(_)), "{error:?}");
        assert!(error.may_have_reached_the_provider());
        silent.abort();
    }
}
