//! How a port fails, by kind, so that a caller decides from the variant alone: retry
//! (`Unavailable`), give up and keep the data aside (`Corrupt`, `Invalid`), or answer a
//! conflict.

/// The cause of a failure, kept whole (an SDK or SQLite error with its own sources).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of a store, queue or pusher.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or did not answer in time: the same call may
    /// succeed later, so the caller retries (a 503, or the message back on the queue).
    #[error("storage is unavailable")]
    Unavailable(#[source] BoxError),
    /// What the store holds cannot be read back as written: retrying reads the same
    /// bytes, so it is reported, never retried.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The backend will never take this request as made (e.g. a queue body that is not
    /// UTF-8 for SQS).
    #[error("refused by the backend: {0}")]
    Invalid(String),
    /// A uniqueness rule of the store (a WhatsApp number held by another organization):
    /// the message is for the caller.
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    /// An `Unavailable` from any error, or from a message where the backend gave none.
    pub fn unavailable(cause: impl Into<BoxError>) -> StoreError {
        StoreError::Unavailable(cause.into())
    }

    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An error and its causes on one line (`a: b: c`), for logs: `Display` of each error
/// shows only its own level.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_keeps_every_cause() {
        let io = std::io::Error::other("connection reset");
        let e = StoreError::unavailable(io);
        assert!(e.is_transient());
        assert_eq!(error_chain(&e), "storage is unavailable: connection reset");
        assert!(!StoreError::Corrupt("x".into()).is_transient());
    }
}
