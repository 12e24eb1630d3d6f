//! Our HTTP client of an Open edX LMS: its OAuth2 client-credentials grant (a JWT, cached
//! until shortly before it expires), edx-proctoring's review callback, and its staff listing
//! of attempts, which is how we check what a review did.

use crate::domain::lms::ReviewCallback;
use crate::store::{LmsClient, RemoteAttempt};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token is renewed this long before the LMS said it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// edx-proctoring pages its grouped listing 25 at a time; this bounds one sync.
const MAX_PAGES: u32 = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LmsError {
    #[error("Open edX is unreachable: {0}")]
    Unreachable(String),
    #[error("Open edX answered {status}: {detail}")]
    Server { status: u16, detail: String },
    #[error("Open edX refused ({status}): {detail}")]
    Refused { status: u16, detail: String },
    #[error(
        "Open edX refused our client credentials ({status}: {detail}); check `proctor-review lms add`"
    )]
    Credentials { status: u16, detail: String },
    #[error("Open edX sent an answer we cannot read: {0}")]
    BadAnswer(String),
}

impl LmsError {
    /// Network trouble and 5xx pass; a refusal will not change by asking again.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Server { .. })
    }
}

pub struct LmsHttp {
    http: reqwest::Client,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default = "an_hour")]
    expires_in: u64,
}

fn an_hour() -> u64 {
    3600
}

#[derive(Deserialize)]
struct Grouped {
    #[serde(default)]
    proctored_exam_attempts: Vec<GroupedAttempt>,
    #[serde(default)]
    pagination_info: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    has_next: bool,
}

#[derive(Deserialize)]
struct GroupedAttempt {
    #[serde(flatten)]
    attempt: Attempt,
    #[serde(default)]
    all_attempts: Vec<Attempt>,
}

#[derive(Deserialize)]
struct Attempt {
    #[serde(default)]
    external_id: Option<String>,
    status: String,
    #[serde(default)]
    attempt_code: String,
    user: User,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
}

impl Attempt {
    fn remote(self) -> Option<RemoteAttempt> {
        Some(RemoteAttempt {
            external_id: self.external_id?,
            status: self.status,
            username: self.user.username,
            email: self.user.email,
            attempt_code: self.attempt_code,
        })
    }
}

/// The LMS's own words for a refusal: DRF's `{"detail": …}`, else the start of the body.
fn detail(body: &str) -> String {
    let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        v.get("detail")
            .or_else(|| v.get("error_description"))
            .or_else(|| v.get("error"))
            .and_then(|d| d.as_str())
            .map(str::to_owned)
    });
    let text = from_json.unwrap_or_else(|| body.trim().chars().take(200).collect());
    if text.is_empty() {
        "(empty answer)".into()
    } else {
        crate::domain::text::printable(&text).into_owned()
    }
}

fn unreachable(e: reqwest::Error) -> LmsError {
    LmsError::Unreachable(if e.is_timeout() {
        "no answer in time".into()
    } else if let Some(why) = crate::tls::certificate_refused(&e) {
        format!(
            "its certificate is not trusted here ({why}); if the institution signs its own, \
             start serve with --ca-file naming its CA's certificate"
        )
    } else if e.is_connect() {
        "connection refused or failed".into()
    } else {
        e.to_string()
    })
}

impl Default for LmsHttp {
    fn default() -> Self {
        Self::new(&crate::tls::ExtraRoots::default())
    }
}

impl LmsHttp {
    /// A client for Open edX that also trusts `roots` (a private CA, `serve --ca-file`).
    pub fn new(roots: &crate::tls::ExtraRoots) -> Self {
        crate::tls::ready();
        let http = roots
            .trusted_by(reqwest::Client::builder())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("proctor-review/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            http,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn api(client: &LmsClient, path: &str) -> String {
        format!(
            "{}/api/edx_proctoring/v1/{path}",
            client.lms_url.trim_end_matches('/')
        )
    }

    /// Tokens are cached per set of credentials, so changed settings take effect at once.
    fn cache_key(client: &LmsClient) -> String {
        let secret = crate::domain::text::hex(
            ring::digest::digest(&ring::digest::SHA256, client.lms_client_secret.as_bytes())
                .as_ref(),
        );
        format!("{}\n{}\n{secret}", client.lms_url, client.lms_client_id)
    }

    fn forget_token(&self, client: &LmsClient) {
        if let Ok(mut t) = self.tokens.lock() {
            t.remove(&Self::cache_key(client));
        }
    }

    async fn token(&self, client: &LmsClient) -> Result<String, LmsError> {
        if let Ok(t) = self.tokens.lock()
            && let Some((token, until)) = t.get(&Self::cache_key(client))
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let url = format!(
            "{}/oauth2/access_token",
            client.lms_url.trim_end_matches('/')
        );
        let res = self
            .http
            .post(url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client.lms_client_id.as_str()),
                ("client_secret", client.lms_client_secret.as_str()),
                ("token_type", "jwt"),
            ])
            .send()
            .await
            .map_err(unreachable)?;
        let status = res.status().as_u16();
        let body = res.text().await.map_err(unreachable)?;
        match status {
            200 => {}
            500.. => {
                return Err(LmsError::Server {
                    status,
                    detail: detail(&body),
                });
            }
            _ => {
                return Err(LmsError::Credentials {
                    status,
                    detail: detail(&body),
                });
            }
        }
        let answer: TokenAnswer = serde_json::from_str(&body)
            .map_err(|e| LmsError::BadAnswer(format!("token answer: {e}")))?;
        let life = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN);
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(
                Self::cache_key(client),
                (answer.access_token.clone(), Instant::now() + life),
            );
        }
        Ok(answer.access_token)
    }

    /// Sends a request with the LMS token; a 401/403 with a cached token fetches a fresh
    /// one and tries once more (the LMS may have revoked or rotated it).
    async fn send(
        &self,
        client: &LmsClient,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(u16, String), LmsError> {
        for fresh in [false, true] {
            let token = self.token(client).await?;
            let res = build(&self.http)
                .header("Authorization", format!("JWT {token}"))
                .send()
                .await
                .map_err(unreachable)?;
            let status = res.status().as_u16();
            let body = res.text().await.map_err(unreachable)?;
            if matches!(status, 401 | 403) && !fresh {
                self.forget_token(client);
                continue;
            }
            return match status {
                200..=299 => Ok((status, body)),
                500.. => Err(LmsError::Server {
                    status,
                    detail: detail(&body),
                }),
                _ => Err(LmsError::Refused {
                    status,
                    detail: detail(&body),
                }),
            };
        }
        Err(LmsError::BadAnswer("authentication loop".into()))
    }

    /// `POST …/proctored_exam/attempt/{external_id}/reviewed`.
    pub async fn post_review(
        &self,
        client: &LmsClient,
        external_id: &str,
        review: &ReviewCallback,
    ) -> Result<(), LmsError> {
        let url = Self::api(
            client,
            &format!("proctored_exam/attempt/{external_id}/reviewed"),
        );
        self.send(client, |h| h.post(&url).json(review)).await?;
        Ok(())
    }

    /// One page of the course's grouped attempt listing, every attempt flattened.
    pub async fn attempts_page(
        &self,
        client: &LmsClient,
        course_id: &str,
        search: Option<&str>,
        page: u32,
    ) -> Result<(Vec<RemoteAttempt>, bool), LmsError> {
        let mut url = url::Url::parse(&Self::api(
            client,
            "proctored_exam/attempt/grouped/course_id",
        ))
        .map_err(|e| LmsError::BadAnswer(format!("LMS URL: {e}")))?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| LmsError::BadAnswer("LMS URL cannot take a path".into()))?;
            segs.push(course_id);
            if let Some(s) = search {
                segs.push("search").push(s);
            }
        }
        url.set_query(Some(&format!("page={page}")));
        let (_, body) = self.send(client, |h| h.get(url.as_str())).await?;
        let grouped: Grouped = serde_json::from_str(&body)
            .map_err(|e| LmsError::BadAnswer(format!("attempt listing: {e}")))?;
        let has_next = grouped.pagination_info.is_some_and(|p| p.has_next);
        let mut out = Vec::new();
        for g in grouped.proctored_exam_attempts {
            let nested = g.all_attempts;
            out.extend(g.attempt.remote());
            out.extend(nested.into_iter().filter_map(Attempt::remote));
        }
        Ok((out, has_next))
    }

    /// The attempt as the LMS shows it now, found through the staff search for its learner.
    pub async fn find_attempt(
        &self,
        client: &LmsClient,
        course_id: &str,
        learner_email: &str,
        external_id: &str,
    ) -> Result<Option<RemoteAttempt>, LmsError> {
        for page in 1..=MAX_PAGES {
            let (attempts, more) = self
                .attempts_page(client, course_id, Some(learner_email), page)
                .await?;
            if let Some(a) = attempts.into_iter().find(|a| a.external_id == external_id) {
                return Ok(Some(a));
            }
            if !more {
                break;
            }
        }
        Ok(None)
    }

    /// Every attempt of the course, page by page.
    pub async fn course_attempts(
        &self,
        client: &LmsClient,
        course_id: &str,
    ) -> Result<Vec<RemoteAttempt>, LmsError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let (attempts, more) = self.attempts_page(client, course_id, None, page).await?;
            all.extend(attempts);
            if !more {
                break;
            }
        }
        Ok(all)
    }
}
