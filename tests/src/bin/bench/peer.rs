//! The seed's design as a Node server (`../shared/peers/seed-node`, `BENCH_SEED_DIR`),
//! run under the same load as the gateway in the same run, so that each figure reads as
//! a ratio to the design Pitchside replaces. It keeps everything in memory and answers a
//! webhook before it processes it; Pitchside makes each webhook durable first.

use super::Server;
use anyhow::{Context, Result, bail};
use pitchside_tests::{APP_SECRET, JWT_SECRET};
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The organizations the bench's webhooks go to, by their phone number id.
pub const TENANTS: &[(&str, &str)] = &[
    ("900000000009001", "org-seed"),
    (super::PHONE_B, "org-b"),
    (super::PHONE_C, "org-c"),
];

pub struct Peer {
    _child: Child,
    pub server: Server,
}

impl Peer {
    /// Starts `node src/server.js` in `dir` (its dependencies installed: `npm ci`) on a
    /// free port, pinned to `cpu` when given.
    pub async fn start(dir: &Path, cpu: Option<&str>) -> Result<Peer> {
        if !dir.join("node_modules").is_dir() {
            bail!(
                "{}: the seed peer's dependencies are not installed (npm ci)",
                dir.display()
            );
        }
        let mut cmd = match cpu {
            Some(c) => {
                let mut t = Command::new("taskset");
                t.args(["-c", c, "node"]);
                t
            }
            None => Command::new("node"),
        };
        let tenants = TENANTS
            .iter()
            .map(|(phone, org)| format!("{phone}={org}"))
            .collect::<Vec<_>>()
            .join(",");
        cmd.arg("src/server.js")
            .current_dir(dir)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("JWT_SECRET", JWT_SECRET)
            .env("WHATSAPP_APP_SECRET", APP_SECRET)
            .env("WHATSAPP_VERIFY_TOKEN", "bench-verify-token")
            .env("TENANTS", tenants)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().context("spawning node (the seed peer)")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let addr = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                // "seed-node listening on http://127.0.0.1:PORT (pid N)"
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    return Ok::<_, anyhow::Error>(addr.to_string());
                }
            }
            bail!("the seed peer exited before listening")
        })
        .await
        .context("the seed peer did not start in time")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let pid = child.id().context("the seed peer's pid")?;
        Ok(Peer {
            _child: child,
            server: Server {
                name: "seed",
                addr,
                pid,
                webhook: "/webhook",
            },
        })
    }
}
