//! Runs effects on tokio tasks and sends their answers back as actions. It is the only part
//! of the console that touches the network, decodes images or starts other programs.

use super::action::{Action, Effect, ListId};
use super::opener::{self, Opener};
use super::state::{PreviewImage, RequestId};
use crate::client::ApiClient;
use crate::domain::MediaId;
use image::DynamicImage;
use ratatui::layout::Size;
use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::mpsc::UnboundedSender;

/// A detail, preview or list load that follows another within this time waits this long and is
/// skipped if the cursor has moved on meanwhile, so holding `j` over a long list sends a
/// couple of requests, not hundreds; a single key press is answered at once.
const SETTLE: Duration = Duration::from_millis(60);
/// Decoded images kept, so moving back and forth redraws without fetching again.
const CACHED_IMAGES: usize = 32;
/// Evidence images larger than this are not previewed (`o` still opens them).
const MAX_PREVIEW_BYTES: u64 = 16 * 1024 * 1024;

/// Decoded images, least recently used first.
type ImageCache = Vec<(MediaId, Arc<DynamicImage>)>;

#[derive(Clone)]
pub struct Runner {
    client: ApiClient,
    tx: UnboundedSender<Action>,
    detail_settle: Arc<Settle>,
    preview_settle: Arc<Settle>,
    sessions_settle: Arc<Settle>,
    picker: Option<Arc<Picker>>,
    images: Arc<Mutex<ImageCache>>,
    /// The last stretch's decoded stills.
    stills: Arc<Mutex<Option<(StillsKey, Stills)>>>,
    opener: Arc<dyn Opener>,
}

/// A file and which of its stills.
type StillsKey = (MediaId, crate::api::FramePackQuery);
type Stills = Arc<Vec<(u64, DynamicImage)>>;
/// How long to wait for the server to draw a stretch's stills, asking this often.
const FRAMES_WAIT: Duration = Duration::from_secs(120);
const FRAMES_POLL: Duration = Duration::from_millis(200);
/// Stills fitted and sent at a time: the first shows before the rest are ready.
const FRAMES_BATCH: usize = 8;

/// What `Effect::LoadFrames` asks for.
struct FramesAsk {
    media: MediaId,
    from_ms: u64,
    to_ms: u64,
    cols: u16,
    rows: u16,
}

impl Runner {
    pub fn new(
        client: ApiClient,
        tx: UnboundedSender<Action>,
        picker: Option<Picker>,
        opener: Arc<dyn Opener>,
    ) -> Self {
        Self {
            client,
            tx,
            detail_settle: Arc::new(Settle::default()),
            preview_settle: Arc::new(Settle::default()),
            sessions_settle: Arc::new(Settle::default()),
            picker: picker.map(Arc::new),
            images: Arc::new(Mutex::new(Vec::new())),
            stills: Arc::new(Mutex::new(None)),
            opener,
        }
    }

    pub fn run(&self, effects: Vec<Effect>) {
        for effect in effects {
            if effect == Effect::FollowChanges {
                tokio::spawn(follow_changes(self.client.clone(), self.tx.clone()));
                continue;
            }
            let me = self.clone();
            let settle = match &effect {
                Effect::LoadDetail { request, .. } => Some((*request, self.detail_settle.clone())),
                Effect::LoadPreview { request, .. } => {
                    Some((*request, self.preview_settle.clone()))
                }
                // Moving over the Quiz List previews each exam; only the one it stops on loads.
                Effect::LoadSessions { request, .. } => {
                    Some((*request, self.sessions_settle.clone()))
                }
                _ => None,
            }
            .filter(|(request, settle)| settle.in_burst(*request));
            tokio::spawn(async move {
                if let Some((request, settle)) = settle
                    && settle.superseded(request).await
                {
                    return;
                }
                // The console may have quit meanwhile; then there is no one to tell.
                if let Some(action) = me.perform(effect).await {
                    let _ = me.tx.send(action);
                }
            });
        }
    }

    /// The answer to `effect`; none for the effects that are not the runner's.
    async fn perform(&self, effect: Effect) -> Option<Action> {
        let client = &self.client;
        let action = match effect {
            Effect::LoadMe => Action::MeLoaded(client.me().await),
            // The terminal loop takes Quit, Suspend and Clipboard; `run` starts
            // FollowChanges itself.
            Effect::Quit | Effect::Suspend | Effect::Clipboard(_) | Effect::FollowChanges => {
                return None;
            }
            Effect::LoadCourses { request } => Action::CoursesLoaded {
                request,
                result: client.courses().await,
            },
            Effect::LoadSessions {
                request,
                list,
                query,
            } => Action::SessionsLoaded {
                request,
                result: match list {
                    ListId::Queue => client.queue(&query).await,
                    ListId::Exam(exam) => client.sessions(exam, &query).await,
                },
            },
            Effect::LoadClaims => Action::ClaimsLoaded(client.claims().await),
            Effect::LoadStats { request, course } => Action::StatsLoaded {
                request,
                result: client.stats(&course, "7d").await,
            },
            Effect::Claim { request, session } => Action::ClaimTaken {
                request,
                session,
                result: client.claim(session).await,
            },
            Effect::RenewClaim { request, delay_ms } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                Action::ClaimDue(request)
            }
            Effect::Release { session } => {
                if let Err(e) = client.release(session).await {
                    // It expires by itself.
                    tracing::debug!(error = %e, "a claim could not be released");
                }
                return None;
            }
            Effect::LoadDetail { request, session } => Action::DetailLoaded {
                request,
                result: client.session(session).await,
            },
            Effect::Decide {
                request,
                session,
                body,
                delay_ms,
            } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                Action::Decided {
                    request,
                    session,
                    result: client.decide(session, &body).await,
                }
            }
            Effect::Undo { request, session } => Action::Undone {
                request,
                result: client.undo(session).await,
            },
            Effect::PlayTick {
                generation,
                ticket,
                delay_ms,
            } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                Action::PlayTick {
                    generation,
                    ticket,
                    at: std::time::Instant::now(),
                }
            }
            Effect::LoadSheet {
                request,
                media,
                cols,
                rows,
            } => Action::SheetLoaded {
                request,
                result: self.sheet(media, cols, rows).await,
            },
            Effect::LoadFrames {
                request,
                media,
                from_ms,
                to_ms,
                cols,
                rows,
            } => {
                let ask = FramesAsk {
                    media,
                    from_ms,
                    to_ms,
                    cols,
                    rows,
                };
                return self.frames(request, ask).await;
            }
            Effect::Tick { delay_ms } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                Action::Tick(OffsetDateTime::now_utc())
            }
            Effect::RetryLms { request, session } => Action::LmsRetried {
                request,
                result: client.lms_retry(session).await,
            },
            Effect::LoadReports {
                request,
                course,
                delay_ms,
            } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                Action::ReportsLoaded {
                    request,
                    result: client.reports(&course).await,
                }
            }
            Effect::StartReport { request, course } => Action::ReportStarted {
                request,
                result: client.start_report(&course).await,
            },
            Effect::DownloadReport { request, job, dir } => Action::ReportDownloaded {
                request,
                result: crate::client::report::download(client, &job, &dir)
                    .await
                    .map_err(|e| e.to_string()),
            },
            Effect::ExportSession {
                request,
                detail,
                dir,
                clips,
            } => {
                let tx = self.tx.clone();
                let result = crate::export::session(client, &detail, &dir, clips, |done, total| {
                    let _ = tx.send(Action::ExportProgress {
                        request,
                        done,
                        total,
                    });
                })
                .await
                .map(|p| (p, "the session".to_owned()))
                .map_err(|e| e.to_string());
                Action::Exported { request, result }
            }
            Effect::ExportTable {
                request,
                exam,
                exams,
                query,
                dir,
            } => {
                let stamp = OffsetDateTime::now_utc()
                    .format(time::macros::format_description!(
                        "[year][month][day]-[hour][minute][second]"
                    ))
                    .unwrap_or_default();
                let (path, of) = match &exam {
                    Some(e) => (
                        dir.join(crate::export::component(&e.exam.course_id))
                            .join(crate::export::component(&e.exam.exam_name)),
                        crate::export::TableOf::Exam(e.exam.id),
                    ),
                    None => (dir.join("require-attention"), crate::export::TableOf::Queue),
                };
                let path = path.join(format!("sessions-{stamp}.csv"));
                let result = crate::export::table(client, of, &exams, &query, &path)
                    .await
                    .map(|n| (path, crate::export::rows_said(n)))
                    .map_err(|e| e.to_string());
                Action::Exported { request, result }
            }
            Effect::LoadPreview {
                request,
                media,
                cols,
                rows,
            } => Action::PreviewLoaded {
                request,
                result: self.preview(media, cols, rows).await,
            },
            Effect::Open {
                request,
                session,
                media,
                kind,
                fragment,
            } => Action::Opened {
                request,
                session,
                kind,
                result: self.open(media, fragment).await,
            },
            Effect::LinkFor {
                request,
                media,
                kind,
                fragment,
            } => Action::LinkReady {
                request,
                kind,
                result: self.link(media, fragment).await,
            },
        };
        Some(action)
    }

    fn cached(&self, media: MediaId) -> Option<Arc<DynamicImage>> {
        let mut cache = self.images.lock().ok()?;
        let i = cache.iter().position(|(id, _)| *id == media)?;
        let hit = cache.remove(i);
        let image = hit.1.clone();
        cache.push(hit);
        Some(image)
    }

    fn remember(&self, media: MediaId, image: Arc<DynamicImage>) {
        if let Ok(mut cache) = self.images.lock() {
            cache.retain(|(id, _)| *id != media);
            if cache.len() >= CACHED_IMAGES {
                cache.remove(0);
            }
            cache.push((media, image));
        }
    }

    /// A stretch's stills: one frame pack (asked again while the server draws them), each
    /// decoded and fitted to `cols`×`rows` off the render path and sent in batches (the
    /// first still alone), so it shows while the rest are fitted. The last stretch's stills stay decoded,
    /// so a zoom or a resize refits them without fetching again.
    async fn frames(&self, request: RequestId, ask: FramesAsk) -> Option<Action> {
        let answer = |result| Action::FramesLoaded {
            request,
            result,
            done: true,
        };
        let Some(picker) = self.picker.clone() else {
            return Some(answer(Err("images are off".into())));
        };
        let query = crate::api::FramePackQuery {
            from_ms: ask.from_ms,
            to_ms: Some(ask.to_ms),
            sheet: false,
        };
        let stills = match self.stills_of(ask.media, query).await {
            Ok(s) => s,
            Err(e) => return Some(answer(Err(e))),
        };
        let size = Size::new(ask.cols, ask.rows);
        // The first still alone, so it shows after one fit; then the rest in batches.
        let split = stills.len().min(1);
        let batches: Vec<Vec<(u64, DynamicImage)>> = std::iter::once(stills[..split].to_vec())
            .filter(|b| !b.is_empty())
            .chain(stills[split..].chunks(FRAMES_BATCH).map(<[_]>::to_vec))
            .collect();
        let last = batches.len().saturating_sub(1);
        for (i, batch) in batches.into_iter().enumerate() {
            let picker = picker.clone();
            let fitted = tokio::task::spawn_blocking(move || {
                batch
                    .into_iter()
                    .map(|(at, img)| {
                        picker
                            .new_protocol(img, size, Resize::Scale(None))
                            .map(|p| (at, PreviewImage(Arc::new(p))))
                            .map_err(|e| format!("cannot draw a still: {e}"))
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            let failed = fitted.is_err();
            let action = Action::FramesLoaded {
                request,
                result: fitted,
                done: i == last || failed,
            };
            if i == last || failed {
                return Some(action);
            }
            if self.tx.send(action).is_err() {
                return None;
            }
        }
        Some(answer(Ok(Vec::new())))
    }

    /// A video's contact sheet, each still fitted to `cols`×`rows`.
    async fn sheet(
        &self,
        media: MediaId,
        cols: u16,
        rows: u16,
    ) -> Result<Vec<(u64, PreviewImage)>, String> {
        let picker = self.picker.clone().ok_or("images are off")?;
        let query = crate::api::FramePackQuery {
            sheet: true,
            ..Default::default()
        };
        let stills = self.stills_of(media, query).await?;
        tokio::task::spawn_blocking(move || {
            stills
                .iter()
                .map(|(at, img)| {
                    picker
                        .new_protocol(img.clone(), Size::new(cols, rows), Resize::Scale(None))
                        .map(|p| (*at, PreviewImage(Arc::new(p))))
                        .map_err(|e| format!("cannot draw a still: {e}"))
                })
                .collect()
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// The stills `query` names, decoded: kept from the last ask, or fetched and decoded.
    async fn stills_of(
        &self,
        media: MediaId,
        query: crate::api::FramePackQuery,
    ) -> Result<Stills, String> {
        let key = (media, query.clone());
        let cached = self.stills.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, s)| s.clone())
        });
        if let Some(s) = cached {
            return Ok(s);
        }
        let deadline = tokio::time::Instant::now() + FRAMES_WAIT;
        let pack = loop {
            match self.client.frame_pack(media, &query).await {
                Ok(Some(pack)) => break pack,
                // The server is drawing them; it says when they are there.
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(FRAMES_POLL).await;
                }
                Ok(None) => return Err("the server is still drawing the stills; try again".into()),
                Err(e) => return Err(e.to_string()),
            }
        };
        let decoded = tokio::task::spawn_blocking(move || {
            pack.frames
                .iter()
                .filter_map(|(f, jpeg)| Some((f.at_ms, image::load_from_memory(jpeg).ok()?)))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| e.to_string())?;
        let stills = Arc::new(decoded);
        if let Ok(mut c) = self.stills.lock() {
            *c = Some((key, stills.clone()));
        }
        Ok(stills)
    }

    /// Fetches (through a fresh signed link), decodes and fits an image, off the render path.
    async fn preview(&self, media: MediaId, cols: u16, rows: u16) -> Result<PreviewImage, String> {
        let picker = self.picker.clone().ok_or("previews are off")?;
        let image = match self.cached(media) {
            Some(image) => image,
            None => {
                let link = self
                    .client
                    .media_link(media)
                    .await
                    .map_err(|e| e.to_string())?;
                let bytes = self
                    .client
                    .fetch_signed(&link.url, MAX_PREVIEW_BYTES)
                    .await
                    .map_err(|e| e.to_string())?;
                let image = tokio::task::spawn_blocking(move || image::load_from_memory(&bytes))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("cannot decode the image: {e}"))?;
                let image = Arc::new(image);
                self.remember(media, image.clone());
                image
            }
        };
        let protocol = tokio::task::spawn_blocking(move || {
            picker.new_protocol((*image).clone(), Size::new(cols, rows), Resize::Scale(None))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot draw the image: {e}"))?;
        Ok(PreviewImage(Arc::new(protocol)))
    }

    /// A fresh signed link to the media, `fragment` appended, if it points at our server.
    async fn link(&self, media: MediaId, fragment: Option<String>) -> Result<String, String> {
        let link = self
            .client
            .media_link(media)
            .await
            .map_err(|e| e.to_string())?;
        opener::target(&self.client, &link.url, fragment.as_deref())
    }

    /// Asks for a fresh signed link and hands it to the opener.
    async fn open(&self, media: MediaId, fragment: Option<String>) -> Result<(), String> {
        let url = self.link(media, fragment).await?;
        let opener = self.opener.clone();
        tracing::info!(media, "opening evidence in the system viewer");
        tokio::task::spawn_blocking(move || opener.open(&url))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| {
                // The error quotes the signed URL; it stays out of the log and the screen.
                tracing::warn!(kind = ?e.kind(), "no viewer could be started");
                "no viewer could be started (is xdg-open or another opener installed?)".to_owned()
            })
    }
}

/// Which request of a kind is the newest, and when the one before it was made.
/// Follows the server's live changes until the console quits; when the stream drops,
/// says so (the console then refreshes by itself) and reconnects with backoff, resuming
/// after the last change seen.
async fn follow_changes(client: ApiClient, tx: UnboundedSender<Action>) {
    let mut last = None;
    let mut wait = Duration::from_secs(1);
    loop {
        let mut opened = false;
        let result = client
            .events(
                last,
                || {
                    opened = true;
                    let _ = tx.send(Action::Live(true));
                },
                |e| {
                    last = Some(e.id);
                    let _ = tx.send(Action::Changed(e));
                },
            )
            .await;
        if tx.is_closed() {
            return;
        }
        // A refused token will not be taken on the next try either.
        if let Err(crate::client::ClientError::Unauthorized(why)) = &result {
            let _ = tx.send(Action::AccessLost(why.clone()));
            return;
        }
        if opened {
            wait = Duration::from_secs(1);
        }
        tracing::info!(result = ?result.err(), "live changes dropped; reconnecting");
        if tx.send(Action::Live(false)).is_err() {
            return;
        }
        let at = time::OffsetDateTime::now_utc() + wait;
        if tx.send(Action::Reconnecting(at)).is_err() {
            return;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

#[derive(Default)]
struct Settle {
    latest: AtomicU64,
    last_at: Mutex<Option<Instant>>,
}

impl Settle {
    /// Records `request`; true if it follows the previous one closely enough to wait.
    fn in_burst(&self, request: RequestId) -> bool {
        self.latest.store(request, Ordering::Relaxed);
        let now = Instant::now();
        let Ok(mut last) = self.last_at.lock() else {
            return true;
        };
        let burst = last.is_some_and(|t| now.duration_since(t) < SETTLE);
        *last = Some(now);
        burst
    }

    /// The state already waits for a newer request's answer, so a skipped one needs no reply.
    async fn superseded(&self, request: RequestId) -> bool {
        tokio::time::sleep(SETTLE).await;
        self.latest.load(Ordering::Relaxed) != request
    }
}
