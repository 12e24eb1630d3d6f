//! Sign-in with the institution's OpenID Connect provider (`serve --oidc-issuer URL
//! --oidc-client-id ID`): the console runs the device authorization grant with the provider
//! and hands us the ID token it got; we check it (signature by the provider's published keys,
//! issuer, audience, expiry), match the verified address to a reviewer an admin added
//! ([`crate::domain::sign_in`]) and answer with a reviewer token under the same rules as one
//! made by hand (expiry, revocation, roles). Tokens made by hand keep working.

use super::AppState;
use super::error::ApiError;
use crate::api::{SignInInfo, SignInRequest, SignedIn};
use crate::domain::sign_in::{Identity, choose};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// What the operator gives.
#[derive(Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL, exactly as its ID tokens name it.
    pub issuer: String,
    /// The public client the console signs in as (registered at the provider for the
    /// device grant).
    pub client_id: String,
    /// The claim holding the address reviewers are matched by (`email`; `upn` or
    /// `preferred_username` where a provider verifies those instead).
    pub claim: String,
    /// A signed-in reviewer's token lasts this long.
    pub token_lifetime: time::Duration,
    /// Authorities trusted beside the system's for the provider (`--ca-file`).
    pub roots: crate::tls::ExtraRoots,
}

/// The scopes asked for: the ID token and the address it carries.
const SCOPE: &str = "openid email profile";
/// The provider's keys are fetched again for an unknown key id, at most this often.
const KEYS_AT_MOST_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    token_endpoint: String,
    device_authorization_endpoint: Option<String>,
}

struct Known {
    discovery: Discovery,
    keys: JwkSet,
    fetched: Instant,
}

pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    known: Mutex<Option<Known>>,
}

#[derive(Debug, thiserror::Error)]
enum OidcError {
    /// The provider could not be asked, or answered nonsense: 503.
    #[error("the identity provider {issuer} could not be reached or answered wrongly: {why}")]
    Provider { issuer: String, why: String },
    /// The token is not one we accept: 401.
    #[error("the identity provider's token was refused: {0}")]
    Token(String),
}

impl From<OidcError> for ApiError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Provider { .. } => ApiError::Unavailable(e.to_string()),
            OidcError::Token(_) => ApiError::Unauthorized(e.to_string()),
        }
    }
}

/// An ID token's claims; the validator has checked the registered ones.
type Claims = serde_json::Map<String, serde_json::Value>;

impl Oidc {
    pub fn new(settings: OidcSettings) -> Self {
        crate::tls::ready();
        let http = settings
            .roots
            .trusted_by(reqwest::Client::builder())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("proctor-review/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            settings,
            http,
            known: Mutex::new(None),
        }
    }

    fn provider(&self, why: impl std::fmt::Display) -> OidcError {
        OidcError::Provider {
            issuer: self.settings.issuer.clone(),
            why: why.to_string(),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| self.provider(format!("{url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(self.provider(format!("{url} answered {}", resp.status())));
        }
        resp.json()
            .await
            .map_err(|e| self.provider(format!("{url}: {e}")))
    }

    /// The discovery document and the keys, fetched when first needed, and again for a key
    /// id they do not have (the provider rotated its keys).
    async fn known(&self, want_kid: Option<&str>) -> Result<(Discovery, JwkSet), OidcError> {
        let mut known = self.known.lock().await;
        let stale = match (&*known, want_kid) {
            (None, _) => true,
            (Some(k), Some(kid)) => {
                k.keys.find(kid).is_none() && k.fetched.elapsed() >= KEYS_AT_MOST_EVERY
            }
            (Some(_), None) => false,
        };
        if stale {
            let base = self.settings.issuer.trim_end_matches('/');
            let discovery: Discovery = self
                .get(&format!("{base}/.well-known/openid-configuration"))
                .await?;
            if discovery.issuer != self.settings.issuer {
                return Err(self.provider(format!(
                    "its discovery document names the issuer {}, not {}",
                    discovery.issuer, self.settings.issuer
                )));
            }
            let keys: JwkSet = self.get(&discovery.jwks_uri).await?;
            *known = Some(Known {
                discovery,
                keys,
                fetched: Instant::now(),
            });
        }
        let k = known
            .as_ref()
            .ok_or_else(|| self.provider("nothing fetched"))?;
        Ok((k.discovery.clone(), k.keys.clone()))
    }

    async fn info(&self) -> Result<SignInInfo, OidcError> {
        let (d, _) = self.known(None).await?;
        let device = d.device_authorization_endpoint.ok_or_else(|| {
            self.provider("it publishes no device_authorization_endpoint (the device grant)")
        })?;
        Ok(SignInInfo {
            issuer: d.issuer,
            client_id: self.settings.client_id.clone(),
            device_authorization_endpoint: device,
            token_endpoint: d.token_endpoint,
            scope: SCOPE.to_owned(),
        })
    }

    /// Checks an ID token: signed by one of the provider's keys (RS256/ES256 family, never
    /// `none` or a shared secret), for us, from the issuer, not expired.
    async fn verify(&self, id_token: &str) -> Result<Identity, OidcError> {
        let bad = |e: jsonwebtoken::errors::Error| OidcError::Token(e.to_string());
        let header = jsonwebtoken::decode_header(id_token).map_err(bad)?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
        ) {
            return Err(OidcError::Token(format!(
                "it is signed with {:?}, not a public-key algorithm",
                header.alg
            )));
        }
        let kid = header.kid.as_deref();
        let (_, keys) = self.known(kid).await?;
        let jwk = match kid {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or_else(|| {
            OidcError::Token("it is signed with a key the provider does not publish".into())
        })?;
        let key = DecodingKey::from_jwk(jwk).map_err(bad)?;
        let mut rules = Validation::new(header.alg);
        rules.set_issuer(&[&self.settings.issuer]);
        rules.set_audience(&[&self.settings.client_id]);
        rules.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        rules.leeway = 60;
        let claims = jsonwebtoken::decode::<Claims>(id_token, &key, &rules)
            .map_err(bad)?
            .claims;
        let claim = &self.settings.claim;
        Ok(Identity {
            email: claims
                .get(claim)
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            // `email_verified` speaks for `email` only; some providers send "true".
            email_verified: (claim == "email")
                .then(|| claims.get("email_verified"))
                .flatten()
                .and_then(|v| match v {
                    serde_json::Value::Bool(b) => Some(*b),
                    serde_json::Value::String(s) => Some(s == "true"),
                    _ => None,
                }),
        })
    }
}

fn configured<S>(st: &AppState<S>) -> Result<&Oidc, ApiError> {
    st.oidc.as_deref().ok_or_else(|| {
        ApiError::NotFound(
            "this server has no sign-in with an identity provider; ask your proctor-review \
             administrator for a token"
                .into(),
        )
    })
}

pub async fn info<S: Store>(State(st): State<AppState<S>>) -> Result<Json<SignInInfo>, ApiError> {
    Ok(Json(configured(&st)?.info().await?))
}

pub async fn sign_in<S: Store>(
    State(st): State<AppState<S>>,
    Json(req): Json<SignInRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    let oidc = configured(&st)?;
    let identity = oidc.verify(&req.id_token).await?;
    let email = identity.email.clone().unwrap_or_default();
    let candidates = st.store.sign_in_candidates(email).await?;
    let reviewer = choose(&identity, candidates).map_err(|r| {
        // The reason names the address; the log does not.
        tracing::info!("a sign-in was refused");
        ApiError::Forbidden(r.to_string())
    })?;
    let token = super::new_token().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let expires_at = OffsetDateTime::now_utc() + oidc.settings.token_lifetime;
    st.store
        .add_token(reviewer.id, super::hash_token(&token), Some(expires_at))
        .await?;
    tracing::info!(reviewer = %reviewer.username, "signed in with the identity provider");
    Ok(Json(SignedIn {
        token,
        username: reviewer.username,
        expires_at: Some(expires_at),
    }))
}
