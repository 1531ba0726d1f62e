//! The browser client in a real browser: headless Chromium loads the gateway's client
//! page, follows SSE and WebSocket at once, lives through a restart of the gateway in the
//! middle of a burst, and ends with every event exactly once, in order.

use pitchside_tests::*;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const PHONE: &str = "555000555";
const WA: &str = "919800000505";
const BURST: usize = 20;

#[tokio::test]
async fn the_browser_client_sees_every_event_once_across_a_restart() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Chromium is missing: `make test` installs it (Debian's chromium package)"
    );
    let browser_dir = format!("{}/browser", env!("CARGO_MANIFEST_DIR"));
    assert!(
        std::path::Path::new(&format!("{browser_dir}/node_modules/playwright-core")).exists(),
        "playwright-core is missing: `make test` installs it (npm ci in tests/browser)"
    );

    let mut env = Env::new(Mode::Embedded).await;
    let gw = env.start().await;
    // Restart on the same address, as a redeploy would.
    env.vars.push(("PITCHSIDE_ADDR".into(), gw.addr.clone()));
    gw.seed_org("org-web", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-web", "admin-org-web", &["viewer"]);

    let mut node = tokio::process::Command::new("node")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .arg(format!("{browser_dir}/run.mjs"))
        .arg(&gw.base)
        .arg(&t)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the page came up in time")
        .unwrap();
    assert_eq!(first.as_deref(), Some("ready"));

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

    stdin
        .write_all(format!("wait {BURST}\n").as_bytes())
        .await
        .unwrap();
    let dump = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the page answered in time")
        .unwrap()
        .expect("a dump");
    let got: serde_json::Value = serde_json::from_str(&dump).unwrap();
    let expected: Vec<String> = (1..=BURST).map(|i| format!("b{i}")).collect();
    for transport in ["sse", "ws"] {
        let events = got[transport].as_array().unwrap();
        let texts: Vec<String> = events
            .iter()
            .map(|e| e["payload"]["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts, expected, "{transport}: every event once, in order");
        let ids: Vec<u64> = events
            .iter()
            .map(|e| e["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(
            ids.windows(2).all(|w| w[1] == w[0] + 1),
            "{transport}: ids {ids:?}"
        );
    }
    stdin.write_all(b"quit\n").await.unwrap();
    let _ = node.wait().await;
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
    let browser_dir = format!("{}/browser", env!("CARGO_MANIFEST_DIR"));
    assert!(
        std::path::Path::new(&format!("{browser_dir}/node_modules/playwright-core")).exists(),
        "playwright-core is missing: `make test` installs it (npm ci in tests/browser)"
    );
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
    env.vars.push(("PITCHSIDE_SSE_MAX_STREAMS_PER_USER".into(), "1".into()));
    let gw = env.start().await;
    gw.seed_org("org-xo", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-xo", "admin-org-xo", &["viewer"]);

    let mut node = tokio::process::Command::new("node")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .arg(format!("{browser_dir}/run.mjs"))
        .args([&gw.base, &t, "cross-origin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut next = async || {
        tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
            .await
            .expect("the page answered in time")
            .unwrap()
            .expect("a line")
    };
    assert_eq!(
        next().await,
        "ready",
        "SSE and WebSocket live across origins"
    );

    let n = 5;
    for i in 1..=n {
        gw.send_text(PHONE, WA, &format!("wamid.xo{i}"), &format!("x{i}"))
            .await
            .unwrap();
    }
    stdin
        .write_all(format!("wait {n}\n").as_bytes())
        .await
        .unwrap();
    let got: serde_json::Value = serde_json::from_str(&next().await).unwrap();
    let expected: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
    for transport in ["sse", "ws"] {
        let texts: Vec<String> = got[transport]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["payload"]["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts, expected, "{transport}: every event once, in order");
    }

    // The same member on a second page: its stream is refused (429), and its client
    // follows over WebSocket instead, and says so.
    stdin.write_all(b"second\n").await.unwrap();
    let second: serde_json::Value = serde_json::from_str(&next().await).unwrap();
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
    stdin.write_all(b"wait-second 2\n").await.unwrap();
    let events: serde_json::Value = serde_json::from_str(&next().await).unwrap();
    let texts: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, [format!("x{}", n + 1), format!("x{}", n + 2)]);

    stdin.write_all(b"foreign\n").await.unwrap();
    let foreign: serde_json::Value = serde_json::from_str(&next().await).unwrap();
    assert_eq!(
        foreign["blocked"], true,
        "an origin not in PITCHSIDE_CORS_ORIGINS cannot read the API's answers"
    );
    stdin.write_all(b"quit\n").await.unwrap();
    let _ = node.wait().await;
}
