//! A small Chrome DevTools protocol client: headless Chromium started with a fresh profile,
//! one tab, commands over a WebSocket written here on tokio (text frames, masking, pings),
//! JSON with serde_json. Enough to open pages, type, click, read the DOM and take
//! screenshots — without compiling a browser-automation crate for one test binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where Chromium is: `FPH_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FPH_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Headless Chromium with one tab attached.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocket,
    next_id: u64,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts Chromium; `None` (with the reason printed) when there is none on this machine.
    pub async fn launch() -> Option<Browser> {
        let Some(binary) = find_chromium() else {
            eprintln!(
                "SKIPPED: no Chromium found (install the Debian package `chromium`, or set \
                 FPH_CHROMIUM to a Chromium or Chrome binary)"
            );
            return None;
        };
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {}: {e}", binary.display()));
        // Chromium writes its port and the browser's WebSocket path into the profile.
        let active = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&active) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break (port.trim().to_owned(), path.trim().to_owned());
                }
            }
            assert!(
                Instant::now() < deadline,
                "Chromium ({}) did not open its DevTools port within 30 s",
                binary.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let ws = WebSocket::connect(&format!("127.0.0.1:{port}"), &path)
            .await
            .expect("a WebSocket to Chromium's DevTools");
        let mut browser = Browser {
            child,
            _profile: profile,
            ws,
            next_id: 0,
            session: String::new(),
        };
        let target = browser
            .send(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = browser
            .send(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await;
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_owned();
        browser.call("Page.enable", json!({})).await;
        browser.call("Runtime.enable", json!({})).await;
        Some(browser)
    }

    async fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.request(session, method, params)
            .await
            .unwrap_or_else(|error| panic!("{method} failed: {error}"))
    }

    /// A command and its result, or the error Chromium answered.
    async fn request(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(&message.to_string())
            .await
            .unwrap_or_else(|e| panic!("failed to send {method}: {e}"));
        loop {
            let text = self
                .ws
                .receive()
                .await
                .unwrap_or_else(|e| panic!("failed to read the answer to {method}: {e}"));
            let reply: Value = serde_json::from_str(&text).expect("JSON from Chromium");
            if reply["id"].as_u64() != Some(id) {
                continue; // an event, or an answer to nothing we wait for
            }
            if let Some(error) = reply.get("error") {
                return Err(error.clone());
            }
            return Ok(reply["result"].clone());
        }
    }

    /// A command to the tab.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params).await
    }

    pub async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).await;
    }

    /// The value of a JavaScript expression (promises awaited); panics on a thrown error.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("`{expression}` threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is truthy and returns its value; panics with `what` and the
    /// page's text after `timeout`.
    pub async fn wait_for(&mut self, what: &str, expression: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let guarded = format!(
            "(() => {{ try {{ return ({expression}); }} catch (e) {{ return null; }} }})()"
        );
        loop {
            // While the page navigates (a form submitted, a link followed) an evaluation can
            // land in the page that is going away: Chromium refuses it, and that is a "not
            // yet", not a failure.
            let session = self.session.clone();
            let value = match self
                .request(
                    Some(&session),
                    "Runtime.evaluate",
                    json!({ "expression": guarded, "awaitPromise": true, "returnByValue": true }),
                )
                .await
            {
                Ok(result) => result["result"]["value"].clone(),
                Err(error) if navigating(&error) => Value::Null,
                Err(error) => panic!("Runtime.evaluate failed: {error}"),
            };
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self
                    .eval("location.href + '\\n' + (document.body ? document.body.innerText : '')")
                    .await;
                panic!(
                    "timed out after {timeout:?} waiting for {what} (`{expression}`); the page:\n{}",
                    page.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types into the element `selector` as a person would (focus, then text input events).
    pub async fn type_into(&mut self, selector: &str, text: &str) {
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({s}); if (!e) return false; e.focus(); e.value = ''; return true; }})()",
                s = json!(selector)
            ))
            .await;
        assert_eq!(found, json!(true), "no element {selector} to type into");
        self.call("Input.insertText", json!({ "text": text })).await;
    }

    /// Clicks the element `selector` (its own click handler and default action run).
    pub async fn click(&mut self, selector: &str) {
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({s}); if (!e) return false; e.click(); return true; }})()",
                s = json!(selector)
            ))
            .await;
        assert_eq!(found, json!(true), "no element {selector} to click");
    }

    /// Presses and releases a key as the keyboard would: `Tab`, `Enter`, `Escape`.
    pub async fn press(&mut self, key: &str) {
        let (code, text) = match key {
            "Tab" => (9, ""),
            "Enter" => (13, "\r"),
            "Escape" => (27, ""),
            other => panic!("no key code for {other}"),
        };
        for kind in ["keyDown", "keyUp"] {
            let mut event = json!({
                "type": kind, "key": key, "code": key,
                "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code,
            });
            if kind == "keyDown" && !text.is_empty() {
                event["text"] = json!(text);
            }
            self.call("Input.dispatchKeyEvent", event).await;
        }
    }

    /// Sets the viewport: `mobile` emulates a phone's screen.
    pub async fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await;
    }

    /// Saves a PNG of the page as it is now.
    pub async fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        let data = shot["data"].as_str().expect("screenshot data");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        std::fs::write(path, base64_decode(data)).expect("the screenshot written");
    }
}

/// A WebSocket client for one connection to Chromium: text messages only.
struct WebSocket {
    stream: TcpStream,
}

impl WebSocket {
    async fn connect(host: &str, path: &str) -> std::io::Result<WebSocket> {
        let mut stream = TcpStream::connect(host).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: ZnBoLWNvbnNvbGUtdGVzdA==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        // Chromium sends nothing after its 101 until asked, so reading to the blank line is
        // reading the handshake only.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await?;
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        if !head.starts_with("HTTP/1.1 101") {
            return Err(std::io::Error::other(format!(
                "the WebSocket handshake was refused: {head}"
            )));
        }
        Ok(WebSocket { stream })
    }

    async fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.frame(0x1, text.as_bytes()).await
    }

    /// One masked, final frame (a client must mask what it sends).
    async fn frame(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if len <= 0xFFFF {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask: [u8; 4] = fastrand::u32(..).to_be_bytes();
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await
    }

    /// The next text message (fragments joined, pings answered).
    async fn receive(&mut self) -> std::io::Result<String> {
        let mut message = Vec::new();
        loop {
            let mut header = [0u8; 2];
            self.stream.read_exact(&mut header).await?;
            let fin = header[0] & 0x80 != 0;
            let opcode = header[0] & 0x0F;
            let masked = header[1] & 0x80 != 0;
            let mut len = u64::from(header[1] & 0x7F);
            if len == 126 {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).await?;
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).await?;
                len = u64::from_be_bytes(b);
            }
            let mut mask = [0u8; 4];
            if masked {
                self.stream.read_exact(&mut mask).await?;
            }
            let mut payload = vec![0u8; len as usize];
            self.stream.read_exact(&mut payload).await?;
            if masked {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= mask[i % 4];
                }
            }
            match opcode {
                0x9 => self.frame(0xA, &payload).await?,
                0xA => {}
                0x8 => {
                    return Err(std::io::Error::other("Chromium closed the WebSocket"));
                }
                _ => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return Ok(String::from_utf8_lossy(&message).into_owned());
                    }
                }
            }
        }
    }
}

/// Standard base64 (what CDP sends screenshots as).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut bits = 0u32;
    let mut count = 0;
    for v in text.bytes().filter_map(value) {
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
}

/// True for Chromium's refusals while a page is replaced by the next one.
fn navigating(error: &Value) -> bool {
    let message = error["message"].as_str().unwrap_or("");
    message.contains("navigated or closed")
        || message.contains("Execution context was destroyed")
        || message.contains("Cannot find context")
}
