//! The embedded store: one SQLite file (WAL) holding every table of the embedded
//! backend, the durable queue included, so a local gateway survives a restart.
//!
//! Writes go to one writer thread, which commits them in groups: whatever writes are
//! waiting when it is free run in one transaction, each inside its own savepoint (so one
//! failing write is rolled back alone). A commit writes the WAL without waiting for the
//! disk (`synchronous = NORMAL`: it survives the process being killed, not the machine
//! losing power); a syncer thread then flushes the WAL to disk, once for every commit
//! made while it was busy with the last flush, and only then answers the callers. So
//! concurrent writers share one flush, and the writer thread goes on executing while the
//! disk works instead of waiting for it. A handle from `Db::applied` is answered at the
//! commit instead: for the worker, whose writes the queue can always redo, and which
//! waits for the disk once per batch (`Db::flushed`) before it pushes what it appended.
//! Reads run on Tokio's blocking pool on pooled connections.

use pitchside_core::ports::{BoxError, StoreError};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS organizations (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS whatsapp_numbers (
    phone_number_id TEXT PRIMARY KEY,
    org             TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    org        TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    membership TEXT NOT NULL,
    PRIMARY KEY (org, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS players (
    org              TEXT NOT NULL,
    player_id        TEXT NOT NULL,
    name             TEXT NOT NULL,
    whatsapp         TEXT,
    whatsapp_user_id TEXT,
    PRIMARY KEY (org, player_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS players_by_whatsapp ON players (org, whatsapp) WHERE whatsapp IS NOT NULL;
CREATE TABLE IF NOT EXISTS log_bounds (
    org             TEXT PRIMARY KEY,
    head            INTEGER NOT NULL,
    trimmed_through INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    org       TEXT NOT NULL,
    id        INTEGER NOT NULL,
    type      TEXT NOT NULL,
    ts_ms     INTEGER NOT NULL,
    payload   TEXT NOT NULL,
    dedup_key TEXT,
    PRIMARY KEY (org, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_by_dedup ON events (org, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_time ON events (org, ts_ms);
CREATE TABLE IF NOT EXISTS stream_leases (
    org      TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    stream   TEXT NOT NULL,
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (org, user_id, slot)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stream_leases_by_expiry ON stream_leases (org, user_id, until_ms);
CREATE TABLE IF NOT EXISTS tickets (
    digest     BLOB PRIMARY KEY,
    grant_json TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inbound_messages (
    org        TEXT NOT NULL,
    message_id TEXT NOT NULL,
    record     TEXT NOT NULL,
    PRIMARY KEY (org, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbound_status (
    org        TEXT NOT NULL,
    message_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    record     TEXT NOT NULL,
    PRIMARY KEY (org, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS availability (
    org        TEXT NOT NULL,
    match_id   TEXT NOT NULL,
    player_id  TEXT NOT NULL,
    answer     TEXT,
    updated_ms INTEGER,
    PRIMARY KEY (org, match_id, player_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS availability_requests (
    org          TEXT NOT NULL,
    player_id    TEXT NOT NULL,
    match_id     TEXT NOT NULL,
    requested_ms INTEGER NOT NULL,
    PRIMARY KEY (org, player_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    id          TEXT PRIMARY KEY,
    entry       TEXT NOT NULL,
    last_ms     INTEGER NOT NULL,
    body        BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_by_time ON quarantine (last_ms);
CREATE TABLE IF NOT EXISTS blobs (
    key        TEXT PRIMARY KEY,
    body       BLOB NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    org      TEXT NOT NULL,
    match_id TEXT NOT NULL,
    setup    TEXT NOT NULL,
    balls    INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org, match_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balls (
    org      TEXT NOT NULL,
    match_id TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    delivery TEXT NOT NULL,
    PRIMARY KEY (org, match_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auctions (
    org        TEXT NOT NULL,
    auction_id TEXT NOT NULL,
    doc        TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    PRIMARY KEY (org, auction_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chat (
    org        TEXT NOT NULL,
    room       TEXT NOT NULL,
    sent_ms    INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    message    TEXT NOT NULL,
    PRIMARY KEY (org, room, sent_ms, message_id),
    UNIQUE (org, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id    TEXT NOT NULL UNIQUE,
    body          BLOB NOT NULL,
    visible_ms    INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_visibility ON queue (visible_ms, seq);
CREATE INDEX IF NOT EXISTS queue_by_receives ON queue (receive_count, visible_ms);
CREATE INDEX IF NOT EXISTS queue_by_receipt ON queue (receipt) WHERE receipt IS NOT NULL;
CREATE TABLE IF NOT EXISTS dead_letters (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id    TEXT NOT NULL UNIQUE,
    body          BLOB NOT NULL,
    receive_count INTEGER NOT NULL,
    dead_ms       INTEGER NOT NULL
);
"#;

/// The SQLite database file and its connections: one writer, a few readers.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
    /// Whether a write is answered once its commit is on disk (else once committed).
    durable: bool,
}

struct DbInner {
    path: PathBuf,
    writes: std::sync::mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
}

/// A write waiting for the writer thread: runs the caller's closure and answers whether
/// it succeeded, and how to answer the caller once the commit's outcome is known.
struct Job {
    run: Run,
    /// Answered only once the commit is on disk.
    durable: bool,
}
type Run = Box<dyn FnOnce(&rusqlite::Transaction<'_>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// The most writes one transaction takes.
const MAX_GROUP: usize = 256;

/// The writer thread: takes the writes waiting, runs them in one transaction, commits,
/// answers the callers that wait for the commit and hands the others to the syncer.
/// Ends when every `Db` is dropped.
fn writer(
    mut conn: Connection,
    jobs: std::sync::mpsc::Receiver<Job>,
    syncer: std::sync::mpsc::Sender<Vec<Reply>>,
) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                // Dropping the group answers each caller that its write failed.
                tracing::error!(error = %e, "cannot begin a write transaction");
                continue;
            }
        };
        let mut committed = Vec::with_capacity(group.len());
        let mut synced = Vec::new();
        for job in group {
            if let Err(e) = tx.run("SAVEPOINT write", []) {
                // Dropping the job answers its caller that the write failed.
                tracing::error!(error = %e, "cannot open a write's savepoint");
                continue;
            }
            let (ok, reply) =
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(&tx))) {
                    Ok(done) => done,
                    Err(_) => (false, Box::new(|_| {}) as Reply),
                };
            let end = if ok {
                tx.run("RELEASE write", [])
            } else {
                tx.run("ROLLBACK TO write", [])
                    .and_then(|_| tx.run("RELEASE write", []))
            };
            if let Err(e) = end {
                tracing::error!(error = %e, "cannot end a write's savepoint");
            }
            if job.durable && ok {
                synced.push(reply);
            } else {
                committed.push(reply);
            }
        }
        let outcome = tx.commit().map_err(|e| format!("the commit failed: {e}"));
        if let Err(e) = &outcome {
            committed.append(&mut synced);
            for reply in committed {
                reply(Err(unavailable(e.clone())));
            }
            continue;
        }
        for reply in committed {
            reply(Ok(()));
        }
        if !synced.is_empty()
            && let Err(std::sync::mpsc::SendError(replies)) = syncer.send(synced)
        {
            for reply in replies {
                reply(Err(unavailable("the syncer thread has stopped")));
            }
        }
    }
}

/// The syncer thread: flushes the WAL to disk once for all the commits waiting, then
/// answers their callers. A flush that fails answers them that their writes may not be
/// on disk (committed, but a retry is what they should do).
fn syncer(wal: PathBuf, commits: std::sync::mpsc::Receiver<Vec<Reply>>) {
    let mut file: Option<std::fs::File> = None;
    while let Ok(mut replies) = commits.recv() {
        while let Ok(more) = commits.try_recv() {
            replies.extend(more);
        }
        // Opened at the first flush: the WAL exists once something was committed. The
        // writer's connection never closes while the store is open, so the file stays.
        let flushed = match &file {
            Some(f) => f.sync_data(),
            None => std::fs::File::open(&wal).and_then(|f| {
                let r = f.sync_data();
                file = Some(f);
                r
            }),
        };
        match flushed {
            Ok(()) => replies.into_iter().for_each(|r| r(Ok(()))),
            Err(e) => {
                tracing::error!(error = %e, wal = %wal.display(), "cannot flush the WAL to disk");
                file = None;
                let e = format!("cannot flush {} to disk: {e}", wal.display());
                replies
                    .into_iter()
                    .for_each(|r| r(Err(unavailable(e.clone()))));
            }
        }
    }
}

/// `execute` and `query_row` through the connection's statement cache: the writer runs
/// the same few statements thousands of times a second, and parsing them afresh was a
/// third of its time under a burst of webhooks.
pub(crate) trait Cached {
    fn run<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn run<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Statements each connection keeps prepared (every statement of the store fits).
const STATEMENT_CACHE: usize = 128;

/// At most this many idle reader connections are kept.
const MAX_IDLE_READERS: usize = 8;

/// SQLite (or the file system under it) failed: the call may succeed when retried.
pub(crate) fn unavailable(e: impl Into<BoxError>) -> StoreError {
    StoreError::unavailable(e)
}

/// A stored value no longer reads back as the type written: retrying will not help.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL: a commit writes the WAL and does not wait for the disk; the syncer thread
    // flushes it before a durable write is answered (the webhook's 200 depends on it).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Brings a data folder made by an earlier version up to the schema.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_user_id: bool = conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('players') WHERE name = 'whatsapp_user_id'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_user_id {
        conn.execute_batch("ALTER TABLE players ADD COLUMN whatsapp_user_id TEXT")?;
    }
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS players_by_whatsapp_user ON players (org, whatsapp_user_id)
         WHERE whatsapp_user_id IS NOT NULL",
    )
}

impl Db {
    /// Opens (creating if needed) `pitchside.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Db, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("pitchside.db");
        let writer = Connection::open(&path)
            .map_err(|e| unavailable(format!("cannot open {}: {e}", path.display())))?;
        configure(&writer).map_err(unavailable)?;
        writer.execute_batch(SCHEMA).map_err(unavailable)?;
        migrate(&writer).map_err(unavailable)?;
        let (writes, jobs) = std::sync::mpsc::channel();
        let (commits, committed) = std::sync::mpsc::channel();
        let wal = dir.join("pitchside.db-wal");
        std::thread::Builder::new()
            .name("sqlite-syncer".into())
            .spawn(move || self::syncer(wal, committed))
            .map_err(|e| unavailable(format!("cannot start the syncer thread: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || self::writer(writer, jobs, commits))
            .map_err(|e| unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok(Db {
            inner: Arc::new(DbInner {
                path,
                writes,
                readers: Mutex::new(Vec::new()),
            }),
            durable: true,
        })
    }

    /// The same store, with writes answered once committed rather than once on disk:
    /// they survive the process being killed, and a power cut loses the last of them
    /// (with everything committed after them). For work the queue redoes when it is
    /// lost; call `flushed` before anything acts on it outside the store.
    pub fn applied(&self) -> Db {
        Db {
            inner: self.inner.clone(),
            durable: false,
        }
    }

    /// Waits until everything committed so far is on disk.
    pub async fn flushed(&self) -> Result<(), StoreError> {
        let durable = Db {
            inner: self.inner.clone(),
            durable: true,
        };
        durable.write(|_| Ok(())).await
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` as one write: atomically (in its own savepoint of a group's
    /// transaction), and answered once that transaction is on disk (or, for a handle
    /// from `applied`, committed).
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let run = Box::new(move |tx: &rusqlite::Transaction<'_>| match f(tx) {
            Ok(value) => (
                true,
                Box::new(move |committed: Result<(), StoreError>| {
                    let _ = answer.send(committed.map(|()| value));
                }) as Reply,
            ),
            Err(e) => (
                false,
                Box::new(move |_| {
                    let _ = answer.send(Err(e));
                }) as Reply,
            ),
        });
        let job = Job {
            run,
            durable: self.durable,
        };
        self.inner
            .writes
            .send(job)
            .map_err(|_| unavailable("the writer thread has stopped"))?;
        answered
            .await
            .map_err(|_| unavailable("the write was not answered (the writer failed)"))?
    }

    /// Runs `f` on a reader connection, inside one read transaction so that it sees a
    /// single snapshot.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open(&inner.path).map_err(unavailable)?;
                    configure(&c).map_err(unavailable)?;
                    c
                }
            };
            let out = {
                let tx = conn.transaction().map_err(unavailable)?;
                let out = f(&tx);
                tx.finish().map_err(unavailable)?;
                out
            };
            let mut idle = inner.readers.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(unavailable)?
    }
}
