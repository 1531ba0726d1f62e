//! `pitchside serve`: settings, the embedded backend, the worker loop and the HTTP
//! server, in one process.

use crate::state::AppState;
use crate::{demo, routes, worker};
use anyhow::{Context, Result, bail};
use pitchside::app::Ports;
use pitchside::app::authn::Authenticator;
use pitchside::config::{Backend, Settings};
use pitchside::domain::auth::TokenVerifier;
use pitchside::embedded::{Db, Hub, MemoryRegistry, SqliteQueue, SqliteStore};
use std::sync::Arc;
use tokio::sync::watch;
use tracing::info;

/// Receives before a queued message goes to the dead letters.
const MAX_RECEIVES: u32 = 5;

pub async fn run(demo_mode: bool) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let settings = if demo_mode {
        Settings::demo_from_lookup(env)
    } else {
        Settings::from_lookup(env)
    }
    .context("invalid configuration")?;
    if settings.backend == Backend::Aws {
        bail!(
            "PITCHSIDE_BACKEND=aws: the AWS backend is not part of this build yet; use `embedded` (the default)"
        );
    }

    let db = Db::open(&settings.data_dir)
        .with_context(|| format!("cannot open the store in {}", settings.data_dir.display()))?;
    let store = Arc::new(SqliteStore::new(db.clone()));
    let hub = Arc::new(Hub::default());
    let ports = Ports {
        log: store.clone(),
        directory: store.clone(),
        tickets: store.clone(),
        messages: store.clone(),
        queue: Arc::new(SqliteQueue::new(db.clone(), MAX_RECEIVES)),
        registry: Arc::new(MemoryRegistry::default()),
        pusher: hub.clone(),
    };
    let verifier = TokenVerifier::new(
        &settings.token_key,
        settings.jwt_issuer.as_deref(),
        settings.jwt_audience.as_deref(),
    )
    .context("PITCHSIDE_JWT_PUBLIC_KEY: unusable key")?;
    let auth = Authenticator::new(verifier, ports.directory.clone(), ports.tickets.clone());
    let state = AppState {
        ports: ports.clone(),
        hub,
        auth,
        settings: Arc::new(settings),
    };

    let listener = tokio::net::TcpListener::bind(state.settings.addr)
        .await
        .with_context(|| format!("PITCHSIDE_ADDR: cannot listen on {}", state.settings.addr))?;
    let addr = listener.local_addr()?;

    if demo_mode {
        demo::seed(&ports)
            .await
            .context("seeding the demo organization")?;
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(worker::run(ports.clone(), stop_rx));

    // Tests and scripts wait for this line; it names the real port when the address
    // asked for port 0.
    println!("pitchside listening on http://{addr}");
    if demo_mode {
        demo::print_guide(&state.settings, addr);
    }
    info!(%addr, data_dir = %db.path().display(), "gateway started");

    let app = routes::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    info!("gateway stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    info!("shutting down");
}
