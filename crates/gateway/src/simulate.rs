//! `pitchside simulate`: sends correctly signed webhooks, as Meta and Stripe would, to a
//! running gateway or a deployed URL; in the spirit of `stripe trigger`.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use pitchside_core::config::{self, DEMO_VALUES};
use pitchside_core::ports::error_chain;
use pitchside_domain::stripe;
use pitchside_domain::whatsapp::{self, samples};

#[derive(Parser)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// A WhatsApp notification of any kind: a message from a player, or a status of a
    /// message the club sent.
    Whatsapp(WhatsappArgs),
    /// A WhatsApp text message (the same as `whatsapp text`).
    Message(WhatsappArgs),
    /// A Stripe event confirming a payment.
    Payment(PaymentArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Text,
    ButtonReply,
    ListReply,
    Button,
    Reaction,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    Unsupported,
    /// A status (`--status`) of an outbound message (`--message-id`).
    Status,
}

#[derive(Parser)]
struct Target {
    /// The gateway's base URL, or the full webhook URL of a deployment.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Use the demo organization's number, player and secrets (for what is not given
    /// and not in the environment).
    #[arg(long)]
    demo: bool,
    /// Print the signed request as a curl command instead of sending it.
    #[arg(long)]
    print: bool,
    /// A PEM certificate to trust besides the system's (a test deployment behind a
    /// self-signed certificate).
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<std::path::PathBuf>,
}

#[derive(Parser)]
struct WhatsappArgs {
    /// What to send (`text` when omitted).
    #[arg(value_enum)]
    kind: Option<Kind>,
    #[command(flatten)]
    target: Target,
    /// The business number's `phone_number_id` (which organization it is for).
    #[arg(long)]
    phone_number_id: Option<String>,
    /// The sender's (or, for a status, the recipient's) WhatsApp id, the phone number.
    #[arg(long = "from")]
    from: Option<String>,
    /// The sender's business-scoped user id; with it and no --from, the message names
    /// the sender only by it, as Meta may since 2026.
    #[arg(long)]
    user_id: Option<String>,
    /// The sender's profile name.
    #[arg(long, default_value = "Simulated Player")]
    name: String,
    /// The text (text), caption (media) or button text.
    #[arg(long)]
    text: Option<String>,
    /// The reply id or button payload, e.g. `avail:m_1:yes`.
    #[arg(long)]
    payload: Option<String>,
    /// The message id (for a status: the outbound message's); new when omitted.
    #[arg(long)]
    message_id: Option<String>,
    /// The status: sent, delivered, read or failed.
    #[arg(long, default_value = "delivered")]
    status: String,
    /// The reaction's emoji.
    #[arg(long, default_value = "👍")]
    emoji: String,
    /// The message a reaction is to.
    #[arg(long)]
    reply_to: Option<String>,
}

#[derive(Parser)]
struct PaymentArgs {
    #[command(flatten)]
    target: Target,
    /// The organization the payment is for (`metadata.organizationId`).
    #[arg(long)]
    org: Option<String>,
    /// The event type.
    #[arg(long = "type", default_value = "checkout.session.completed")]
    kind: String,
    /// The amount in the currency's smallest unit.
    #[arg(long, default_value_t = 50000)]
    amount: i64,
    #[arg(long, default_value = "inr")]
    currency: String,
    /// The Stripe event id; new when omitted (repeat one to see it deduplicated).
    #[arg(long)]
    event_id: Option<String>,
    /// Extra metadata, `key=value`, repeatable.
    #[arg(long = "meta")]
    meta: Vec<String>,
}

pub async fn run(args: Args) -> Result<()> {
    match args.what {
        What::Whatsapp(w) => whatsapp(w).await,
        What::Message(mut w) => {
            w.kind = Some(Kind::Text);
            whatsapp(w).await
        }
        What::Payment(p) => payment(p).await,
    }
}

/// A secret from the environment, or the demo's with `--demo`.
fn secret(name: &str, demo: bool) -> Result<String> {
    match std::env::var(name) {
        Ok(s) if !s.is_empty() => Ok(s),
        _ if demo => Ok(DEMO_VALUES
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .expect("the demo has every secret")),
        _ => bail!("{name} is not set (or pass --demo)"),
    }
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

async fn whatsapp(w: WhatsappArgs) -> Result<()> {
    let demo = w.target.demo;
    let secret = secret(config::WHATSAPP_APP_SECRET, demo)?;
    let phone = match (&w.phone_number_id, demo) {
        (Some(p), _) => p.clone(),
        (None, true) => crate::demo::PHONE_NUMBER_ID.into(),
        (None, false) => bail!("--phone-number-id is required (or pass --demo)"),
    };
    let (default_wa, default_name) = if demo {
        let (_, name, wa) = crate::demo::PLAYERS[0];
        (Some(wa.to_string()), name.to_string())
    } else {
        (None, w.name.clone())
    };
    let from = samples::From {
        wa_id: w.from.clone().or(if w.user_id.is_some() {
            None
        } else {
            default_wa
        }),
        user_id: w.user_id.clone(),
        name: if w.name == "Simulated Player" {
            default_name
        } else {
            w.name.clone()
        },
    };
    if from.wa_id.is_none() && from.user_id.is_none() {
        bail!("--from or --user-id is required (or pass --demo)");
    }
    let kind = w.kind.unwrap_or(Kind::Text);
    let now = chrono::Utc::now().timestamp();
    let text = |default: &str| w.text.clone().unwrap_or_else(|| default.to_string());
    let payload = || w.payload.clone().unwrap_or_else(|| "avail:m_1:yes".into());
    let media = |t: &str| samples::Kind::Media {
        media_type: t.into(),
        caption: w.text.clone(),
    };
    let (id, body) = if let Kind::Status = kind {
        let id = w
            .message_id
            .clone()
            .context("--message-id (the outbound message's) is required for a status")?;
        let s = samples::status(&id, &w.status, &from, now);
        (id, samples::notification(&phone, None, vec![], vec![s]))
    } else {
        let sample = match kind {
            Kind::Text => samples::Kind::Text { body: text("yes") },
            Kind::ButtonReply => samples::Kind::ButtonReply {
                id: payload(),
                title: text("Yes"),
            },
            Kind::ListReply => samples::Kind::ListReply {
                id: payload(),
                title: text("Yes"),
            },
            Kind::Button => samples::Kind::Button {
                payload: payload(),
                text: text("Yes"),
            },
            Kind::Reaction => samples::Kind::Reaction {
                message_id: w.reply_to.clone().unwrap_or_else(|| new_id("wamid.sim.")),
                emoji: w.emoji.clone(),
            },
            Kind::Image => media("image"),
            Kind::Audio => media("audio"),
            Kind::Video => media("video"),
            Kind::Document => media("document"),
            Kind::Sticker => media("sticker"),
            Kind::Location => samples::Kind::Location {
                latitude: 51.5299,
                longitude: -0.1722,
                name: text("Lord's Cricket Ground"),
            },
            Kind::Contacts => samples::Kind::Contacts {
                name: text("Ravi Kumar"),
                wa_id: "919876543210".into(),
            },
            Kind::Unsupported => samples::Kind::Unsupported,
            Kind::Status => unreachable!("handled above"),
        };
        let id = w.message_id.clone().unwrap_or_else(|| new_id("wamid.sim."));
        let m = samples::message(&from, &id, now, &sample);
        (
            id,
            samples::notification(&phone, Some(&from), vec![m], vec![]),
        )
    };
    let body = serde_json::to_vec(&body)?;
    let signature = whatsapp::sign(secret.as_bytes(), &body);
    let url = endpoint(&w.target.url, "/whatsapp/webhook");
    send(&w.target, &url, ("x-hub-signature-256", &signature), body).await?;
    if !w.target.print {
        println!("sent {id} for number {phone}");
    }
    Ok(())
}

async fn payment(p: PaymentArgs) -> Result<()> {
    let demo = p.target.demo;
    let secret = secret(config::STRIPE_WEBHOOK_SECRET, demo)?;
    let org = match (&p.org, demo) {
        (Some(o), _) => o.clone(),
        (None, true) => crate::demo::ORG.into(),
        (None, false) => bail!("--org is required (or pass --demo)"),
    };
    let mut metadata = serde_json::json!({"organizationId": org});
    for kv in &p.meta {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--meta {kv:?}: expected key=value"))?;
        metadata[k] = serde_json::json!(v);
    }
    let event_id = p.event_id.clone().unwrap_or_else(|| new_id("evt_sim_"));
    let intent = new_id("pi_sim_");
    let object = if p.kind == "payment_intent.succeeded" {
        serde_json::json!({"id": intent, "object": "payment_intent", "amount": p.amount,
            "amount_received": p.amount, "currency": p.currency, "status": "succeeded", "metadata": metadata})
    } else {
        serde_json::json!({"id": new_id("cs_sim_"), "object": "checkout.session", "amount_total": p.amount,
            "currency": p.currency, "payment_intent": intent, "payment_status": "paid",
            "status": "complete", "metadata": metadata})
    };
    let now = chrono::Utc::now().timestamp();
    let body = serde_json::to_vec(&serde_json::json!({
        "id": event_id, "object": "event", "api_version": "2024-06-20", "created": now,
        "type": p.kind, "livemode": false, "data": {"object": object},
    }))?;
    let signature = stripe::sign(secret.as_bytes(), &body, now);
    let url = endpoint(&p.target.url, "/payments/webhook");
    send(&p.target, &url, ("stripe-signature", &signature), body).await?;
    if !p.target.print {
        println!("sent {event_id} ({}) for organization {org}", p.kind);
    }
    Ok(())
}

/// `base` with `path` appended, unless it already ends with it.
fn endpoint(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with(path) {
        base.to_string()
    } else {
        format!("{base}{path}")
    }
}

/// The HTTP client: HTTPS over rustls (the AWS SDK's TLS stack) with the system's
/// roots, and `--ca-cert` if given.
fn client(target: &Target) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().use_rustls_tls();
    if let Some(path) = &target.ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("--ca-cert {}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("--ca-cert {}: not a PEM certificate", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().context("cannot build the HTTP client")
}

async fn send(target: &Target, url: &str, header: (&str, &str), body: Vec<u8>) -> Result<()> {
    if target.print {
        let body = String::from_utf8(body).expect("JSON is UTF-8");
        println!(
            "curl -sS -X POST '{url}' -H 'content-type: application/json' -H '{}: {}' --data-binary @- <<'JSON'\n{body}\nJSON",
            header.0, header.1
        );
        return Ok(());
    }
    let resp = client(target)?
        .post(url)
        .header("content-type", "application/json")
        .header(header.0, header.1)
        .body(body)
        .send()
        .await
        // The whole chain: reqwest's own message hides whether it was the certificate,
        // the name or the connection.
        .map_err(|e| anyhow::anyhow!("cannot reach {url}: {}", error_chain(&e)))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{url} answered {status}: {text}");
    }
    Ok(())
}
