//! The browser client in a real browser: headless Chromium loads the gateway's client
//! page, follows SSE and WebSocket at once, lives through a restart of the gateway in the
//! middle of a burst, and ends with every event exactly once, in order; and follows a
//! deployment's three hosts from a page on a fourth origin, with CORS enforced.

use pitchside_tests::*;
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const PHONE: &str = "555000555";
const WA: &str = "919800000505";
const BURST: usize = 20;

/// The browser, driven by `tests/browser/run.mjs`: a command a line in, an answer a
/// line out.
struct Browser {
    node: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Browser {
    fn start(args: &[&str]) -> Browser {
        assert!(
            std::path::Path::new("/usr/bin/chromium").exists(),
            "Chromium is missing: `make test` installs it (Debian's chromium package)"
        );
        let dir = format!("{}/browser", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::path::Path::new(&format!("{dir}/node_modules/playwright-core")).exists(),
            "playwright-core is missing: `make test` installs it (npm ci in tests/browser)"
        );
        let mut node = tokio::process::Command::new("node")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .arg(format!("{dir}/run.mjs"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let stdin = node.stdin.take().unwrap();
        let lines = BufReader::new(node.stdout.take().unwrap()).lines();
        Browser { node, stdin, lines }
    }

    /// The next line the driver prints.
    async fn answer(&mut self) -> String {
        tokio::time::timeout(std::time::Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the browser answered in time")
            .unwrap()
            .expect("a line")
    }

    /// Sends a command and parses its answer.
    async fn ask(&mut self, command: &str) -> Value {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        serde_json::from_str(&self.answer().await).unwrap()
    }

    async fn quit(mut self) {
        self.stdin.write_all(b"quit\n").await.unwrap();
        let _ = self.node.wait().await;
    }
}

/// The texts of a list of events.
fn texts(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"]["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_browser_client_sees_every_event_once_across_a_restart() {
    let mut env = Env::new(Mode::Embedded).await;
    let gw = env.start().await;
    // Restart on the same address, as a redeploy would.
    env.vars.push(("PITCHSIDE_ADDR".into(), gw.addr.clone()));
    gw.seed_org("org-web", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-web", "admin-org-web", &["viewer"]);
    let mut browser = Browser::start(&[&gw.base, &t]);
    assert_eq!(browser.answer().await, "ready");

    for i in 1..=BURST / 2 {
        gw.send_text(PHONE, WA, &format!("wamid.b{i}"), &format!("b{i}"))
            .await
            .unwrap();
    }
    gw.kill().await.unwrap();
    let gw = env.start().await;
    for i in BURST / 2 + 1..=BURST {
        gw.send_text(PHONE, WA, &format!("wamid.b{i}"), &format!("b{i}"))
            .await
            .unwrap();
    }

    let got = browser.ask(&format!("wait {BURST}")).await;
    let expected: Vec<String> = (1..=BURST).map(|i| format!("b{i}")).collect();
    for transport in ["sse", "ws"] {
        assert_eq!(
            texts(&got[transport]),
            expected,
            "{transport}: every event once, in order"
        );
        let ids: Vec<u64> = got[transport]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(
            ids.windows(2).all(|w| w[1] == w[0] + 1),
            "{transport}: ids {ids:?}"
        );
    }
    browser.quit().await;
}

/// A port nobody listens on now, for a gateway whose settings must name it up front.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_browser_client_follows_a_deployment_on_other_origins() {
    let port = free_port();
    let mut env = Env::new(Mode::Embedded).await;
    env.vars
        .push(("PITCHSIDE_ADDR".into(), format!("127.0.0.1:{port}")));
    // Only the page's origin: the API, stream and socket hosts are other origins, and
    // a page anywhere else must be refused.
    env.vars.push((
        "PITCHSIDE_CORS_ORIGINS".into(),
        format!("http://page.test:{port}"),
    ));
    // One stream per member: a second page of the same member is refused its stream.
    env.vars
        .push(("PITCHSIDE_SSE_MAX_STREAMS_PER_USER".into(), "1".into()));
    let gw = env.start().await;
    gw.seed_org("org-xo", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-xo", "admin-org-xo", &["viewer"]);
    let mut browser = Browser::start(&[&gw.base, &t, "cross-origin"]);
    assert_eq!(
        browser.answer().await,
        "ready",
        "SSE and WebSocket live across origins"
    );

    let n = 5;
    for i in 1..=n {
        gw.send_text(PHONE, WA, &format!("wamid.xo{i}"), &format!("x{i}"))
            .await
            .unwrap();
    }
    let got = browser.ask(&format!("wait {n}")).await;
    let expected: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
    for transport in ["sse", "ws"] {
        assert_eq!(
            texts(&got[transport]),
            expected,
            "{transport}: every event once, in order"
        );
    }

    // The same member on a second page: its stream is refused (429), and its client
    // follows over WebSocket instead, and says so.
    let second = browser.ask("second").await;
    let history: Vec<&str> = second["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(history.contains(&"fallback"), "{history:?}");
    assert_eq!(history.last(), Some(&"live"), "{history:?}");
    for i in n + 1..=n + 2 {
        gw.send_text(PHONE, WA, &format!("wamid.xo{i}"), &format!("x{i}"))
            .await
            .unwrap();
    }
    let events = browser.ask("wait-second 2").await;
    assert_eq!(
        texts(&events),
        [format!("x{}", n + 1), format!("x{}", n + 2)]
    );

    let foreign = browser.ask("foreign").await;
    assert_eq!(
        foreign["blocked"], true,
        "an origin not in PITCHSIDE_CORS_ORIGINS cannot read the API's answers"
    );
    browser.quit().await;
}
