//! Live updates: every change to a session (a decision by anyone, an undo, the provider's
//! review, Open edX) is published to `GET /api/v1/events`, a server-sent event stream that
//! shows each subscriber only the courses they may see. The last events are kept, so a
//! console that lost its connection resumes where it stopped (`Last-Event-ID`).

use super::AppState;
use super::auth::{Authed, bearer, hash_token};
use crate::api::{ChangeEvent, ChangeKind};
use crate::domain::access::{Actor, authenticate};
use crate::domain::{SessionDetail, Verdict};
use crate::store::Store;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Events kept for consoles that reconnect.
const KEPT: usize = 1024;
/// Events buffered per subscriber before it is told to resync.
const BUFFER: usize = 256;
/// How often a stream checks its token and grants again. Revocation and withdrawal happen
/// in the database (`reviewer revoke`, on any server or none), so a stream cannot be told;
/// it looks, and ends within this long.
const RECHECK: Duration = Duration::from_millis(500);

pub struct EventHub {
    /// Names this server in what it announces, so it does not hear itself.
    origin: String,
    /// Where this server's own changes go to be announced to the servers sharing its
    /// database (none on a database no other server uses).
    announce: Option<mpsc::UnboundedSender<Arc<ChangeEvent>>>,
    tx: broadcast::Sender<Arc<ChangeEvent>>,
    recent: Mutex<VecDeque<Arc<ChangeEvent>>>,
    next_id: AtomicU64,
    /// Set when the server shuts down: streams end, so connections can drain.
    closing: watch::Sender<bool>,
    /// Who is on which learner, as the claim events said.
    pub presence: super::presence::Presence,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new(None)
    }
}

/// A change as one server announces it to the others.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Announced {
    pub origin: String,
    pub event: ChangeEvent,
}

impl EventHub {
    /// A hub whose own changes are also sent to `announce`.
    pub fn new(announce: Option<mpsc::UnboundedSender<Arc<ChangeEvent>>>) -> Self {
        Self {
            origin: crate::random::hex::<8>().unwrap_or_else(|_| first_id().to_string()),
            announce,
            tx: broadcast::channel(BUFFER).0,
            recent: Mutex::new(VecDeque::with_capacity(KEPT)),
            // Ids keep growing across restarts, so a console resuming after one is told to
            // resync instead of waiting for ids it has already seen.
            next_id: AtomicU64::new(first_id()),
            closing: watch::channel(false).0,
            presence: Default::default(),
        }
    }

    /// What this server announces `event` as.
    pub fn announcement(&self, event: &ChangeEvent) -> Option<String> {
        serde_json::to_string(&Announced {
            origin: self.origin.clone(),
            event: event.clone(),
        })
        .ok()
    }

    /// A change another server announced: published here as if made here (with an id of
    /// this server's), unless it is this server's own.
    pub fn heard(&self, payload: &str) {
        match serde_json::from_str::<Announced>(payload) {
            Ok(a) if a.origin == self.origin => {}
            Ok(a) => self.publish(a.event),
            Err(e) => tracing::warn!(error = %e, "an announced change could not be read"),
        }
    }
}

fn first_id() -> u64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    ms.saturating_mul(1000).max(1)
}

impl EventHub {
    /// Publishes what happened to `d`.
    pub fn session_changed(
        &self,
        kind: ChangeKind,
        d: &SessionDetail,
        reviewer: Option<&str>,
        verdict: Option<Verdict>,
    ) {
        let mut event = about(kind, d);
        event.reviewer = reviewer.map(str::to_owned);
        event.verdict = verdict;
        self.announce_and_publish(event);
    }

    /// Publishes what a job did to `d` (a learner email, an Open edX delivery or change).
    pub fn job_news(&self, d: &SessionDetail, news: crate::jobs::News) {
        let mut event = about(news.kind, d);
        event.delivery = Some(news.delivery);
        event.note = news.note;
        self.announce_and_publish(event);
    }

    /// Tells the consoles that claims not renewed in time are released.
    pub fn expire_claims(&self) {
        for release in self.presence.expired(std::time::Instant::now()) {
            // Every server sweeps its own copy of the claims, so this is not announced.
            self.publish(release);
        }
    }

    pub(super) fn announce_and_publish(&self, event: ChangeEvent) {
        if let Some(out) = &self.announce {
            let _ = out.send(Arc::new(event.clone()));
        }
        self.publish(event);
    }

    fn publish(&self, mut event: ChangeEvent) {
        use super::presence::Applied;
        // A renewed claim keeps it alive here but is no news to the consoles.
        if self.presence.apply(&event, std::time::Instant::now()) == Applied::Nothing {
            return;
        }
        event.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let event = Arc::new(event);
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == KEPT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        // Nobody listening is fine.
        let _ = self.tx.send(event);
    }

    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Kept events after `after`; `None` if some between were already dropped.
    fn since(&self, after: u64) -> Option<Vec<Arc<ChangeEvent>>> {
        let recent = self.recent.lock().ok()?;
        let next = self.next_id.load(Ordering::Relaxed);
        let oldest = recent.front().map_or(next, |e| e.id);
        // From another run of the server, or older than what is kept: missed events.
        if after >= next || after + 1 < oldest {
            return None;
        }
        Some(recent.iter().filter(|e| e.id > after).cloned().collect())
    }
}

/// A change to `d`, as it is now, before saying who made it or how.
fn about(kind: ChangeKind, d: &SessionDetail) -> ChangeEvent {
    ChangeEvent {
        id: 0,
        kind,
        session_id: d.row.id,
        exam_id: d.row.exam_id,
        course_id: d.course_id.clone(),
        learner: d.row.learner.full_name.clone(),
        status: d.row.status,
        reviewer: None,
        verdict: None,
        delivery: None,
        note: None,
    }
}

fn sse(e: &ChangeEvent) -> Event {
    Event::default()
        .id(e.id.to_string())
        .json_data(e)
        .unwrap_or_else(|_| Event::default().comment("unencodable event"))
}

fn resync(id: u64) -> Event {
    let e = ChangeEvent {
        id,
        kind: ChangeKind::Resync,
        session_id: 0,
        exam_id: 0,
        course_id: String::new(),
        learner: String::new(),
        status: crate::domain::AttemptStatus::Created,
        reviewer: None,
        verdict: None,
        delivery: None,
        note: None,
    };
    sse(&e)
}

struct Subscription<S> {
    store: S,
    /// The SHA-256 of the token the stream was opened with, to check it again.
    token: String,
    actor: Actor,
    recheck: tokio::time::Interval,
    backlog: VecDeque<Event>,
    rx: broadcast::Receiver<Arc<ChangeEvent>>,
    closing: watch::Receiver<bool>,
}

impl<S> Drop for Subscription<S> {
    fn drop(&mut self) {
        metrics::gauge!("event_streams_active").decrement(1.0);
    }
}

impl<S: Store> Subscription<S> {
    /// `None` (the stream ends) once the caller's token is revoked or expired, or their
    /// grants or role changed: a console reconnects after an end, and is then refused or
    /// sees only what it may now (what it missed meanwhile comes as its `Last-Event-ID`
    /// allows, through the new grants). A database that does not answer keeps the stream.
    async fn still_allowed(&mut self) -> Option<()> {
        match self.store.token(self.token.clone()).await {
            Ok(record) => match authenticate(record, time::OffsetDateTime::now_utc()) {
                Ok(actor) if actor == self.actor => Some(()),
                _ => None,
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a live stream's token");
                Some(())
            }
        }
    }
}

pub async fn stream<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hub = st.events.clone();
    // Subscribe before reading the backlog, so nothing falls between the two.
    let rx = hub.tx.subscribe();
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut backlog = VecDeque::new();
    let mut seen = 0;
    if let Some(after) = after {
        match hub.since(after) {
            Some(events) => {
                for e in events
                    .iter()
                    .filter(|e| actor.may_see(&e.course_id).is_ok())
                {
                    backlog.push_back(sse(e));
                }
                seen = events.last().map_or(after, |e| e.id);
            }
            None => backlog.push_back(resync(after)),
        }
    }
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    metrics::gauge!("event_streams_active").increment(1.0);
    let sub = Subscription {
        store: st.store.clone(),
        token: bearer(&headers).map(hash_token).unwrap_or_default(),
        actor,
        recheck,
        backlog,
        rx,
        closing: hub.closing.subscribe(),
    };
    let events = futures_util::stream::unfold((sub, seen), |(mut sub, seen)| async move {
        if let Some(e) = sub.backlog.pop_front() {
            return Some((Ok(e), (sub, seen)));
        }
        loop {
            let got = tokio::select! {
                got = sub.rx.recv() => Some(got),
                _ = sub.recheck.tick() => None,
                _ = sub.closing.wait_for(|c| *c) => return None,
            };
            let Some(got) = got else {
                sub.still_allowed().await?;
                continue;
            };
            match got {
                Ok(e) if e.id <= seen || sub.actor.may_see(&e.course_id).is_err() => continue,
                Ok(e) => return Some((Ok(sse(&e)), (sub, e.id))),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((Ok(resync(seen)), (sub, seen)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
