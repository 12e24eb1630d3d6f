//! Runs effects on tokio tasks and sends their answers back as actions. It is the only part
//! of the console that touches the network.

use super::action::{Action, Effect};
use super::state::RequestId;
use crate::client::ApiClient;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Detail loads wait this long and are skipped if the cursor has moved on meanwhile, so
/// holding `j` over a long list sends one request, not hundreds.
const DETAIL_SETTLE: Duration = Duration::from_millis(60);

#[derive(Clone)]
pub struct Runner {
    client: ApiClient,
    tx: UnboundedSender<Action>,
    latest_detail: Arc<AtomicU64>,
}

impl Runner {
    pub fn new(client: ApiClient, tx: UnboundedSender<Action>) -> Self {
        Self {
            client,
            tx,
            latest_detail: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn run(&self, effects: Vec<Effect>) {
        for effect in effects {
            let client = self.client.clone();
            let tx = self.tx.clone();
            let settle = match &effect {
                Effect::LoadDetail { request, .. } => {
                    self.latest_detail.store(*request, Ordering::Relaxed);
                    Some((*request, self.latest_detail.clone()))
                }
                _ => None,
            };
            tokio::spawn(async move {
                if let Some((request, latest)) = settle
                    && superseded(request, &latest).await
                {
                    return;
                }
                // The console may have quit meanwhile; then there is no one to tell.
                let _ = tx.send(perform(&client, effect).await);
            });
        }
    }
}

/// The state already waits for a newer request's answer, so a skipped one needs no reply.
async fn superseded(request: RequestId, latest: &AtomicU64) -> bool {
    tokio::time::sleep(DETAIL_SETTLE).await;
    latest.load(Ordering::Relaxed) != request
}

async fn perform(client: &ApiClient, effect: Effect) -> Action {
    match effect {
        Effect::LoadMe => Action::MeLoaded(client.me().await),
        Effect::LoadCourses { request } => Action::CoursesLoaded {
            request,
            result: client.courses().await,
        },
        Effect::LoadSessions {
            request,
            exam,
            query,
        } => Action::SessionsLoaded {
            request,
            result: client.sessions(exam, &query).await,
        },
        Effect::LoadDetail { request, session } => Action::DetailLoaded {
            request,
            result: client.session(session).await,
        },
        Effect::Decide {
            request,
            session,
            body,
        } => Action::Decided {
            request,
            session,
            result: client.decide(session, &body).await,
        },
    }
}
