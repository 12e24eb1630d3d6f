//! The one writer, on a thread of its own. Transactions queue for it, and those that queued
//! while the one before was being written go in together: each in a savepoint of one
//! transaction, with one commit for the group (group commit). When eight reviewers decide at
//! once, the commit, the WAL frames of the pages they share and a hand-off between threads
//! are paid once a group instead of once a decision. A transaction that fails rolls back to
//! its savepoint and takes nothing else with it; the others answer only once committed.

use super::tx::Lite;
use crate::store::backend::TxFuture;
use crate::store::tx::at_once;
use crate::store::{PlaceFiles, StoreError};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Transactions in one group at most, so the first of a long queue is not kept waiting.
const GROUP: usize = 32;

/// The writer thread and the queue to it. Dropping it lets the queue run dry, then closes
/// the connection.
pub struct Writer {
    queue: Option<Sender<Work>>,
    thread: Option<JoinHandle<()>>,
}

enum Work {
    /// Joins a group.
    Transaction(Box<dyn Member>),
    /// Runs by itself, between groups (seeding, which keeps its own transaction).
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
}

/// A transaction waiting its turn; boxed, so transactions answering any type share a queue.
trait Member: Send {
    /// Runs inside the open transaction: Ok if its work stands, to be committed.
    fn run(&mut self, c: &mut Connection) -> Result<(), StoreError>;
    /// Committed (Ok), or why not.
    fn answer(self: Box<Self>, outcome: Result<(), StoreError>);
}

struct Pending<T, F, P> {
    work: Option<F>,
    files: P,
    /// What the work answered, once it ran and its files are in place.
    out: Option<T>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    /// The request the work is for, for the jobs it queues.
    request: Option<Arc<str>>,
}

impl<T, F, P> Member for Pending<T, F, P>
where
    T: Send + 'static,
    P: PlaceFiles,
    F: for<'a, 'c> FnOnce(&'a mut Lite<'c>) -> TxFuture<'a, T> + Send + 'static,
{
    fn run(&mut self, c: &mut Connection) -> Result<(), StoreError> {
        let work = self
            .work
            .take()
            .ok_or_else(|| StoreError::Corrupt("a transaction was run twice".into()))?;
        let out =
            crate::request_id::on_thread(self.request.clone(), || at_once(work(&mut Lite(c))))?;
        // Rows and files stand or fall together: the files move in before the commit and
        // out again if it fails.
        if let Err(e) = self.files.place() {
            self.files.undo();
            return Err(StoreError::failed("cannot move media into place", e));
        }
        self.out = Some(out);
        Ok(())
    }

    fn answer(mut self: Box<Self>, outcome: Result<(), StoreError>) {
        let result = match (outcome, self.out.take()) {
            (Ok(()), Some(out)) => Ok(out),
            (Ok(()), None) => Err(StoreError::Corrupt(
                "a transaction was committed without having run".into(),
            )),
            (Err(e), placed) => {
                // Files went in only with a result; a failed run took its own back out.
                if placed.is_some() {
                    self.files.undo();
                }
                Err(e)
            }
        };
        // The caller may have stopped waiting; the outcome stands all the same.
        let _ = self.reply.send(result);
    }
}

fn stopped(e: impl Into<crate::store::BoxError>) -> StoreError {
    StoreError::failed("the database writer stopped", e)
}

impl Writer {
    pub fn start(conn: Connection) -> Result<Self, StoreError> {
        let (queue, work) = channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, work))
            .map_err(stopped)?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    fn send(&self, work: Work) -> Result<(), StoreError> {
        self.queue
            .as_ref()
            .ok_or_else(|| stopped("the store is closing"))?
            .send(work)
            .map_err(|_| stopped("its thread ended"))
    }

    /// Runs `f` in a transaction (shared with others queued at the same moment); `files`
    /// move in before the commit and out again if it fails.
    pub async fn transaction<T, F, P>(&self, files: P, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        P: PlaceFiles,
        F: for<'a, 'c> FnOnce(&'a mut Lite<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(Work::Transaction(Box::new(Pending {
            work: Some(f),
            files,
            out: None,
            reply,
            request: crate::request_id::current(),
        })))?;
        answer.await.map_err(stopped)?
    }

    /// Runs `f` on the writer's connection by itself, outside any group.
    pub async fn alone<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let request = crate::request_id::current();
        self.send(Work::Alone(Box::new(move |c: &mut Connection| {
            let _ = reply.send(crate::request_id::on_thread(request, || f(c)));
        })))?;
        answer.await.map_err(stopped)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            // The last handle can go with a transaction's closure, on the thread itself.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

fn run(mut c: Connection, queue: Receiver<Work>) {
    let mut next = None;
    loop {
        let work = match next.take() {
            Some(w) => w,
            None => match queue.recv() {
                Ok(w) => w,
                Err(_) => return,
            },
        };
        match work {
            Work::Alone(f) => {
                // A panic drops the reply, which its caller hears as the writer's error.
                let _ = catch_unwind(AssertUnwindSafe(|| f(&mut c)));
            }
            Work::Transaction(first) => {
                let mut group = vec![first];
                while group.len() < GROUP {
                    match queue.try_recv() {
                        Ok(Work::Transaction(m)) => group.push(m),
                        Ok(alone) => {
                            next = Some(alone);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_group(&mut c, group);
            }
        }
    }
}

/// Runs each member in a savepoint of one IMMEDIATE transaction, then commits those that
/// stood.
fn commit_group(c: &mut Connection, group: Vec<Box<dyn Member>>) {
    let mut ready: Vec<Box<dyn Member>> = Vec::with_capacity(group.len());
    let mut open = false;
    for mut m in group {
        if !open {
            match begin(c) {
                Ok(()) => open = true,
                Err(e) => {
                    m.answer(Err(e));
                    continue;
                }
            }
        }
        match in_savepoint(c, &mut *m) {
            Ok(()) => ready.push(m),
            Err(e) => {
                m.answer(Err(e));
                // SQLite ends the whole transaction on some errors (a full disk, an I/O
                // error): what stood before it is gone too.
                if c.is_autocommit() {
                    open = false;
                    for r in ready.drain(..) {
                        r.answer(Err(StoreError::failed(
                            "the transaction was rolled back",
                            "another in its group failed and the database rolled back both",
                        )));
                    }
                }
            }
        }
    }
    if !open {
        return;
    }
    if ready.is_empty() {
        if let Err(e) = c.execute_batch("ROLLBACK") {
            tracing::warn!(error = %e, "cannot end an empty transaction");
        }
        return;
    }
    match c.execute_batch("COMMIT") {
        Ok(()) => ready.into_iter().for_each(|r| r.answer(Ok(()))),
        Err(e) => {
            let why = e.to_string();
            if !c.is_autocommit() {
                let _ = c.execute_batch("ROLLBACK");
            }
            for r in ready {
                r.answer(Err(StoreError::failed("cannot commit", why.clone())));
            }
        }
    }
}

fn begin(c: &mut Connection) -> Result<(), StoreError> {
    // A transaction an earlier failure left open is not ours to finish.
    if !c.is_autocommit() {
        c.execute_batch("ROLLBACK")?;
    }
    Ok(c.execute_batch("BEGIN IMMEDIATE")?)
}

fn in_savepoint(c: &mut Connection, m: &mut dyn Member) -> Result<(), StoreError> {
    c.execute_batch("SAVEPOINT member")?;
    let ran = catch_unwind(AssertUnwindSafe(|| m.run(c)))
        .unwrap_or_else(|_| Err(StoreError::Corrupt("a transaction panicked".into())));
    match ran {
        Ok(()) => Ok(c.execute_batch("RELEASE member")?),
        Err(e) => {
            if !c.is_autocommit() {
                c.execute_batch("ROLLBACK TO member; RELEASE member")?;
            }
            Err(e)
        }
    }
}
