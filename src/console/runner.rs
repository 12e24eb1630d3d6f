//! Runs effects on tokio tasks and sends their answers back as actions. It is the only part
//! of the console that touches the network.

use super::action::{Action, Effect};
use crate::client::ApiClient;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Clone)]
pub struct Runner {
    client: ApiClient,
    tx: UnboundedSender<Action>,
}

impl Runner {
    pub fn new(client: ApiClient, tx: UnboundedSender<Action>) -> Self {
        Self { client, tx }
    }

    pub fn run(&self, effects: Vec<Effect>) {
        for effect in effects {
            let client = self.client.clone();
            let tx = self.tx.clone();
            tokio::spawn(async move {
                // The console may have quit meanwhile; then there is no one to tell.
                let _ = tx.send(perform(&client, effect).await);
            });
        }
    }
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
