//! `pitchside simulate`: sends correctly signed sample webhooks, as Meta would.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use pitchside::config::{self, DEMO_VALUES};
use pitchside::domain::whatsapp;

#[derive(Parser)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// A WhatsApp text message from a player.
    Message(MessageArgs),
}

#[derive(Parser)]
struct MessageArgs {
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Use the demo organization's number, player and app secret (unless
    /// PITCHSIDE_WHATSAPP_APP_SECRET is set).
    #[arg(long)]
    demo: bool,
    /// The business number's `phone_number_id`.
    #[arg(long, required_unless_present = "demo")]
    phone_number_id: Option<String>,
    /// The sender's WhatsApp id.
    #[arg(long = "from", required_unless_present = "demo")]
    from: Option<String>,
    /// The sender's profile name.
    #[arg(long, default_value = "Simulated Player")]
    name: String,
    /// The message text.
    #[arg(long)]
    text: String,
}

pub async fn run(args: Args) -> Result<()> {
    match args.what {
        What::Message(m) => message(m).await,
    }
}

async fn message(m: MessageArgs) -> Result<()> {
    let secret = match std::env::var(config::WHATSAPP_APP_SECRET) {
        Ok(s) if !s.is_empty() => s,
        _ if m.demo => DEMO_VALUES
            .iter()
            .find(|(k, _)| *k == config::WHATSAPP_APP_SECRET)
            .map(|(_, v)| v.to_string())
            .expect("the demo has an app secret"),
        _ => bail!(
            "{} is not set (or pass --demo)",
            config::WHATSAPP_APP_SECRET
        ),
    };
    let (phone, from, name) = if m.demo {
        let (_, name, wa) = crate::demo::PLAYERS[0];
        (
            m.phone_number_id
                .unwrap_or_else(|| crate::demo::PHONE_NUMBER_ID.into()),
            m.from.unwrap_or_else(|| wa.into()),
            name.to_string(),
        )
    } else {
        (
            m.phone_number_id.context("--phone-number-id is required")?,
            m.from.context("--from is required")?,
            m.name,
        )
    };
    let message_id = format!("wamid.sim.{}", uuid::Uuid::new_v4().simple());
    let payload = whatsapp::text_notification(
        &phone,
        &from,
        &name,
        &message_id,
        chrono::Utc::now().timestamp(),
        &m.text,
    );
    let body = serde_json::to_vec(&payload)?;
    let url = format!("{}/whatsapp/webhook", m.url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            whatsapp::sign(secret.as_bytes(), &body),
        )
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("the gateway answered {status}: {text}");
    }
    println!("sent {message_id} from {from} to number {phone}: {status}");
    Ok(())
}
