//! The push path of AWS, run by the local gateway in AWS mode as Lambda would run it:
//! the table's stream read in order (the `fanout` function's event source), and the
//! push queue drained by a few concurrent pollers (the `push` function's), posting to
//! this gateway's own management endpoint. So the black-box tests in AWS mode take
//! events to WebSocket clients the way production does.

use pitchside_aws::push_queue::retry_delay;
use pitchside_aws::stream::LogStream;
use pitchside_aws::{ManagementApi, SqsChunkQueue};
use pitchside_core::app::{fanout, push};
use pitchside_core::ports::Ports;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{Instrument, info_span, warn};

/// How many push pollers run at once: Lambda runs one invocation per message group at
/// most, and several groups at once.
const PUSH_POLLERS: usize = 2;
/// A received chunk's visibility, and the share of it a poller spends before it hands
/// back what it has not delivered.
const VISIBILITY: Duration = Duration::from_secs(30);
const BUDGET: Duration = Duration::from_secs(25);
const LONG_POLL: Duration = Duration::from_secs(5);
/// How long the stream reader waits when the stream had nothing.
const STREAM_IDLE: Duration = Duration::from_millis(50);

pub async fn run(
    ports: Ports,
    stream: LogStream,
    queue: SqsChunkQueue,
    endpoint: ManagementApi,
    stop: watch::Receiver<bool>,
) {
    let mut tasks = vec![tokio::spawn(fan_out(
        ports.clone(),
        stream,
        queue.clone(),
        stop.clone(),
    ))];
    for _ in 0..PUSH_POLLERS {
        tasks.push(tokio::spawn(deliver(
            ports.clone(),
            queue.clone(),
            endpoint.clone(),
            stop.clone(),
        )));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn backoff(stop: &mut watch::Receiver<bool>, wait: &mut Duration) -> bool {
    let stopping = tokio::select! {
        _ = tokio::time::sleep(*wait) => false,
        _ = stopped(stop) => true,
    };
    *wait = (*wait * 2).min(Duration::from_secs(10));
    stopping
}

/// The `fanout` function's part: each move of a log head, in stream order; a move that
/// fails is tried again before any later one, as Lambda retries a stream's batch.
async fn fan_out(
    ports: Ports,
    mut stream: LogStream,
    queue: SqsChunkQueue,
    mut stop: watch::Receiver<bool>,
) {
    let mut wait = Duration::from_millis(100);
    loop {
        let moves = tokio::select! {
            m = stream.next(STREAM_IDLE) => m,
            _ = stopped(&mut stop) => return,
        };
        let moves = match moves {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %e, "cannot read the table's stream; backing off");
                if backoff(&mut stop, &mut wait).await {
                    return;
                }
                continue;
            }
        };
        for m in moves {
            let span = info_span!("fanout", org = %m.org, after = %m.after, upto = %m.upto);
            loop {
                match fanout::fan_out(&ports, &queue, &m.org, m.after, m.upto)
                    .instrument(span.clone())
                    .await
                {
                    Ok(_) => break,
                    Err(e) => {
                        warn!(parent: &span, error = %e, "fan-out failed; trying again");
                        if backoff(&mut stop, &mut wait).await {
                            return;
                        }
                    }
                }
            }
            wait = Duration::from_millis(100);
        }
    }
}

/// The `push` function's part.
async fn deliver(
    ports: Ports,
    queue: SqsChunkQueue,
    endpoint: ManagementApi,
    mut stop: watch::Receiver<bool>,
) {
    let policy = push::Policy::default();
    let mut wait = Duration::from_millis(100);
    loop {
        let received = tokio::select! {
            r = queue.receive(VISIBILITY, LONG_POLL) => r,
            _ = stopped(&mut stop) => return,
        };
        let received = match received {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "cannot receive from the push queue; backing off");
                if backoff(&mut stop, &mut wait).await {
                    return;
                }
                continue;
            }
        };
        wait = Duration::from_millis(100);
        if received.is_empty() {
            continue;
        }
        let deadline = tokio::time::Instant::now() + BUDGET;
        let handles: Vec<(String, String, u32)> = received
            .iter()
            .map(|r| (r.message.id.clone(), r.receipt.clone(), r.receive_count))
            .collect();
        let tally = push::Tally::default();
        let back = push::deliver_batch(
            &endpoint,
            ports.registry.as_ref(),
            received.into_iter().map(|r| r.message).collect(),
            deadline,
            &policy,
            &tally,
        )
        .await;
        for (id, receipt, count) in handles {
            let done = if back.contains(&id) {
                queue.retry_in(&receipt, retry_delay(count)).await
            } else {
                queue.delete(&receipt).await
            };
            if let Err(e) = done {
                warn!(error = %e, "cannot settle a push queue message; it is given again after its visibility timeout");
            }
        }
    }
}
