//! A small W3C WebDriver client over HTTP, enough to drive `chromedriver`:
//! sessions, navigation, finding and clicking elements, typing, reading
//! text, running a script and taking screenshots.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key W3C WebDriver names element references with.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where the browser and its driver are, when they are installed.
pub struct Installed {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Debian's `chromium` and `chromium-driver`, or the binaries named by
/// `CHROMIUM` and `CHROMEDRIVER`; the reason they cannot be used
/// otherwise.
pub fn installed() -> Result<Installed, String> {
    let find = |variable: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(variable) {
            return Some(PathBuf::from(path)).filter(|path| path.is_file());
        }
        let search = std::env::var_os("PATH").unwrap_or_default();
        names.iter().find_map(|name| {
            std::env::split_paths(&search)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
    };
    let chromium = find("CHROMIUM", &["chromium", "chromium-browser"]).ok_or(
        "no chromium found (install Debian's `chromium` and `chromium-driver`, or set CHROMIUM)",
    )?;
    let chromedriver = find("CHROMEDRIVER", &["chromedriver"])
        .ok_or("no chromedriver found (install Debian's `chromium-driver`, or set CHROMEDRIVER)")?;
    Ok(Installed {
        chromium,
        chromedriver,
    })
}

/// A headless Chromium driven through its own `chromedriver`.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

/// An element found on the page.
#[derive(Debug, Clone)]
pub struct Element(String);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Browser {
    /// Starts the driver and a headless browser with a window of
    /// `width` by `height`.
    pub async fn start(installed: &Installed, width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = Command::new(&installed.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {}: {err}", installed.chromedriver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let http = outdial::net::http_client().build().expect("an HTTP client");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(response) => response.text().await.is_ok_and(|text| {
                    serde_json::from_str::<Value>(&text)
                        .is_ok_and(|status| status["value"]["ready"] == true)
                }),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
        };
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": installed.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"),
                ],
            },
        }}});
        let created = browser.command("POST", "/session", capabilities).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver made no session: {created}"))
            .to_string();
        browser
    }

    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|message| panic!("{message}"))
    }

    /// A command, with the driver's refusal as an error.
    async fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("webdriver {method} {path}: {err}"));
        let status = response.status();
        let text = response.text().await.expect("a webdriver answer");
        let answer: Value = serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!("webdriver {method} {path} answered no JSON ({err}): {text}")
        });
        if !status.is_success() {
            return Err(format!(
                "webdriver {method} {path} failed with {status}: {}",
                answer["value"]["message"]
            ));
        }
        Ok(answer["value"].clone())
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.command("POST", &self.session_path("/url"), json!({"url": url}))
            .await;
    }

    /// Every element matching a CSS selector, now.
    pub async fn find_all(&self, selector: &str) -> Vec<Element> {
        let found = self
            .command(
                "POST",
                &self.session_path("/elements"),
                json!({"using": "css selector", "value": selector}),
            )
            .await;
        found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item[ELEMENT_KEY].as_str())
                    .map(|id| Element(id.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub async fn find(&self, selector: &str) -> Element {
        let mut found = None;
        self.wait_until(&format!("an element {selector}"), async || {
            found = self.find_all(selector).await.into_iter().next();
            found.is_some()
        })
        .await;
        found.expect("found")
    }

    pub async fn click(&self, element: &Element) {
        self.command(
            "POST",
            &self.session_path(&format!("/element/{}/click", element.0)),
            json!({}),
        )
        .await;
    }

    /// Clicks the first element matching `selector`, finding it again when
    /// the page drew it anew between finding and clicking.
    pub async fn click_on(&self, selector: &str) {
        self.wait_until(&format!("a click on {selector}"), async || {
            let Some(element) = self.find_all(selector).await.into_iter().next() else {
                return false;
            };
            match self
                .try_command(
                    "POST",
                    &self.session_path(&format!("/element/{}/click", element.0)),
                    json!({}),
                )
                .await
            {
                Ok(_) => true,
                Err(message) if message.contains("stale element") => false,
                Err(message) => panic!("{message}"),
            }
        })
        .await;
    }

    pub async fn type_into(&self, element: &Element, text: &str) {
        self.command(
            "POST",
            &self.session_path(&format!("/element/{}/value", element.0)),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn text(&self, element: &Element) -> String {
        self.command(
            "GET",
            &self.session_path(&format!("/element/{}/text", element.0)),
            Value::Null,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The text of the first element matching `selector`, or "" when none
    /// does. Read in one step, so a part of the page drawn anew meanwhile
    /// cannot leave a stale reference.
    pub async fn text_of(&self, selector: &str) -> String {
        self.command(
            "POST",
            &self.session_path("/execute/sync"),
            json!({
                "script": "const el = document.querySelector(arguments[0]); return el ? el.innerText.trim() : '';",
                "args": [selector],
            }),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Runs `script` (a function body) in the page and answers its value.
    pub async fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            &self.session_path("/execute/sync"),
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Saves a screenshot of the window as a PNG file.
    pub async fn screenshot(&self, file: &Path) {
        let encoded = self
            .command("GET", &self.session_path("/screenshot"), Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("a base64 screenshot"))
            .expect("the screenshot decodes");
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).expect("the artifact directory");
        }
        std::fs::write(file, png).unwrap_or_else(|err| panic!("writing {}: {err}", file.display()));
    }

    /// Polls `check` until it holds, for at most 30 seconds.
    pub async fn wait_until(&self, what: &str, mut check: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !check().await {
            assert!(Instant::now() < deadline, "waited 30 s for {what}");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Ends the session, which closes the browser.
    pub async fn close(mut self) {
        let path = self.session_path("");
        self.command("DELETE", &path, Value::Null).await;
        self.session.clear();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed half-way still closes its browser: the
        // session is ended with a plain request, as no async runtime may
        // be left to run one.
        if !self.session.is_empty()
            && let Ok(mut stream) = TcpStream::connect(self.base.trim_start_matches("http://"))
        {
            let _ = write!(
                stream,
                "DELETE /session/{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = std::io::Read::read(&mut stream, &mut [0u8; 256]);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
