//! The id of the HTTP request a piece of work belongs to: given by the caller
//! (`x-request-id`, when it is a plain token) or made here, answered in the same header,
//! carried by every log line of the request and written on each job it queues, so a job's
//! log lines name the request that caused them.
//!
//! The id travels implicitly: a task-local for the request's own task, and a thread-local
//! on the thread SQLite's work runs on ([`on_thread`]), so no signature between the
//! handler and the queue has to carry it.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static CURRENT: Arc<str>;
}

thread_local! {
    static ON_THREAD: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The header that carries it, both ways.
pub const HEADER: &str = "x-request-id";

/// The id of the request being served here, if any.
pub fn current() -> Option<Arc<str>> {
    CURRENT
        .try_with(Arc::clone)
        .ok()
        .or_else(|| ON_THREAD.with(|t| t.borrow().clone()))
}

/// Runs `f` as part of the request `id`.
pub async fn scope<F: Future>(id: Arc<str>, f: F) -> F::Output {
    CURRENT.scope(id, f).await
}

/// Runs `f` on this thread as part of the request `id` (work handed to a blocking thread).
pub fn on_thread<T>(id: Option<Arc<str>>, f: impl FnOnce() -> T) -> T {
    let before = ON_THREAD.with(|t| t.replace(id));
    let out = f();
    ON_THREAD.with(|t| t.replace(before));
    out
}

/// The caller's id if it is a plain token (at most 64 letters, digits, `-`, `_`, `.`), so
/// nothing a client sends can forge or break a log line; else a new one.
pub fn accept_or_make(given: Option<&str>) -> Arc<str> {
    match given {
        Some(g)
            if !g.is_empty()
                && g.len() <= 64
                && g.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) =>
        {
            g.into()
        }
        _ => crate::random::hex::<8>()
            .unwrap_or_else(|_| "unknown".into())
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tokens_are_taken_from_the_caller() {
        assert_eq!(&*accept_or_make(Some("lb-4f2a.9_x")), "lb-4f2a.9_x");
        for bad in ["", "a b", "x\ny", "é", &"x".repeat(65)] {
            let made = accept_or_make(Some(bad));
            assert_eq!(made.len(), 16, "{bad:?} → {made}");
        }
    }

    #[tokio::test]
    async fn the_id_follows_the_task_and_a_blocking_thread() {
        assert!(current().is_none());
        let id: Arc<str> = "req-1".into();
        scope(id.clone(), async {
            assert_eq!(current().as_deref(), Some("req-1"));
            let carried = current();
            let seen = tokio::task::spawn_blocking(move || on_thread(carried, current))
                .await
                .unwrap();
            assert_eq!(seen.as_deref(), Some("req-1"));
        })
        .await;
        assert!(current().is_none());
    }
}
