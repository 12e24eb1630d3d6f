//! Learner emails over SMTP, received by a minimal SMTP server on 127.0.0.1.

mod common;

use common::smtp::Tls;
use common::test_ca::TestCa;
use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::client::{ApiClient, ExtraRoots};
use proctor_review::demo;
use proctor_review::domain::email::MailState;
use proctor_review::domain::{Job, JobKind, JobState, SessionDetail, SessionRow, Verdict};
use proctor_review::embedded::{self, EmbeddedOptions};
use proctor_review::server::MailSettings;
use proctor_review::store::prelude::*;
use std::time::Duration;

/// A demo server that sends learner email over SMTP to `url`.
async fn server_mailing_to(url: &str) -> (embedded::RunningServer, tempfile::TempDir) {
    server_mailing_with(url, &ExtraRoots::default()).await
}

/// A demo server that sends learner email to `url`, trusting `roots` for its certificate.
async fn server_mailing_with(
    url: &str,
    roots: &ExtraRoots,
) -> (embedded::RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let from = "Course Team <proctoring@example.edu>".parse().unwrap();
    let server = embedded::start(EmbeddedOptions {
        db: dir.path().join("review.sqlite3"),
        mail: MailSettings::smtp(url, roots, from).unwrap().transport,
        reset: false,
        media_dir: dir.path().join("media"),
        reports_dir: dir.path().join("reports"),
        undo_grace: time::Duration::ZERO,
        data: demo::embedded().unwrap(),
    })
    .await
    .unwrap();
    (server, dir)
}

/// Email jobs not yet delivered.
async fn queued_emails(server: &embedded::RunningServer) -> Vec<Job> {
    let mut jobs = server.store.jobs(JobKind::Email, None).await.unwrap();
    jobs.retain(|j| j.state.pending());
    jobs
}

/// Fails the first Require Attention session of the Final Exam; returns it as it was.
async fn fail_one(server: &embedded::RunningServer) -> (SessionRow, SessionDetail) {
    let api = ApiClient::new(&server.url, &server.token).unwrap();
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let s = api.sessions(3, &q).await.unwrap().items[0].clone();
    let fail = DecisionRequest {
        verdict: Verdict::Fail,
        reason: String::new(),
        expected_status: Some(s.status),
        idempotency_key: None,
    };
    let decided = api.decide(s.id, &fail).await.unwrap();
    (s, decided)
}

#[tokio::test]
async fn a_fail_emails_the_learner_over_smtp() {
    let (url, mut inbox) = common::smtp::sink(None).await;
    let (server, _dir) = server_mailing_to(&url).await;
    let (s, _) = fail_one(&server).await;
    let (rcpt, data) = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
        .await
        .expect("the email arrived")
        .unwrap();
    assert_eq!(rcpt, s.learner.email);
    assert!(
        data.contains("Subject: Proctoring attempt rejected"),
        "{data}"
    );
    assert!(
        common::smtp::qp_decode(&data).contains("did not pass"),
        "{data}"
    );
    // The sink has the message; the server marks it delivered once the SMTP dialogue ends.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !queued_emails(&server).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivered mail must leave the queue"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn with_the_mail_server_down_the_decision_stands_and_the_email_waits() {
    // A port that was free a moment ago: nothing listens there.
    let url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("smtp://{}", l.local_addr().unwrap())
    };
    let (server, _dir) = server_mailing_to(&url).await;
    let (_, decided) = fail_one(&server).await;
    let queued_at_once = decided.history[0]
        .email
        .clone()
        .expect("the email is part of the decision");
    assert_eq!(
        queued_at_once.state,
        MailState::Queued,
        "queued, not yet delivered"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let queued = loop {
        let queued = queued_emails(&server).await;
        // Claimed (attempts counted), tried, and put back for later.
        if queued
            .iter()
            .any(|m| m.attempts > 0 && m.state == JobState::Queued)
        {
            break queued;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery was attempted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(queued.len(), 1, "kept for the next attempt");
    assert_eq!(queued[0].state, JobState::Queued, "to be tried again later");
    let why = queued[0].last_error.as_deref().unwrap_or_default();
    assert!(why.contains("SMTP delivery failed"), "{why}");
    // History tells the reviewer the same: queued and retrying, with the reason.
    let api = ApiClient::new(&server.url, &server.token).unwrap();
    let h = api.session(decided.row.id).await.unwrap().history[0].clone();
    let email = h.email.unwrap();
    assert_eq!(email.state, MailState::Queued);
    assert!(
        email.describe().contains("retrying"),
        "{}",
        email.describe()
    );
    assert!(
        email.describe().contains("SMTP delivery failed"),
        "{}",
        email.describe()
    );
}

/// A relay without 8BITMIME (issue #22): the email goes as 7-bit, and arrives whole.
#[tokio::test]
async fn a_server_without_8bitmime_gets_a_7_bit_email() {
    let how = common::smtp::Behaviour {
        eight_bit: false,
        ..Default::default()
    };
    let (url, mut inbox) = common::smtp::sink_with(None, how).await;
    let (server, _dir) = server_mailing_to(&url).await;
    let api = ApiClient::new(&server.url, &server.token).unwrap();
    let q = SessionQuery {
        status: "second_review_required".into(),
        limit: 200,
        ..Default::default()
    };
    // A learner whose name is not ASCII, so the email has letters 7-bit cannot carry.
    let mut s = None;
    for exam in 1..=4 {
        s = api
            .sessions(exam, &q)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|r| !r.learner.full_name.is_ascii());
        if s.is_some() {
            break;
        }
    }
    let s = s.expect("a learner with a name in another script");
    api.decide(
        s.id,
        &DecisionRequest {
            verdict: Verdict::Fail,
            reason: String::new(),
            expected_status: Some(s.status),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let (_, data) = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
        .await
        .expect("the email arrived")
        .unwrap();
    assert!(data.is_ascii(), "7-bit on the wire: {data}");
    assert!(
        data.contains("Content-Transfer-Encoding: quoted-printable"),
        "{data}"
    );
    assert!(
        common::smtp::qp_decode(&data).contains(&s.learner.full_name),
        "{data}"
    );
}

/// A 5xx reply is final: the email is failed at once and shown, not retried for hours.
#[tokio::test]
async fn a_permanent_refusal_fails_the_email_at_once() {
    let how = common::smtp::Behaviour {
        refuse: Some("550 5.1.1 no such user here"),
        ..Default::default()
    };
    let (url, _inbox) = common::smtp::sink_with(None, how).await;
    let (server, _dir) = server_mailing_to(&url).await;
    let (_, decided) = fail_one(&server).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let failed = loop {
        let jobs = server.store.jobs(JobKind::Email, None).await.unwrap();
        if let Some(j) = jobs.into_iter().find(|j| j.state == JobState::Failed) {
            break j;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the refusal was not taken as final"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(failed.attempts, 1, "tried once");
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no such user")),
        "{failed:?}"
    );
    let api = ApiClient::new(&server.url, &server.token).unwrap();
    let email = api.session(decided.row.id).await.unwrap().history[0]
        .email
        .clone()
        .unwrap();
    assert_eq!(email.state, MailState::Failed);
}

/// An institution's relay: TLS with a certificate from the institution's own authority
/// (trusted with `--ca-file`), and a password with characters a URL must escape.
#[tokio::test]
async fn over_tls_to_a_relay_with_a_private_ca_and_a_password_the_email_arrives() {
    for tls in [Tls::Implicit, Tls::StartTls] {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path(), "relay");
        let (addr, mut inbox) =
            common::smtp::tls_sink(tls, &ca, dir.path(), "mailer", "p@ss word").await;
        let url = match tls {
            Tls::Implicit => format!("smtps://mailer:p%40ss%20word@{addr}"),
            Tls::StartTls => format!("smtp://mailer:p%40ss%20word@{addr}?tls=required"),
        };
        let roots = ExtraRoots::read(&ca.pem).unwrap();
        let (server, _dir) = server_mailing_with(&url, &roots).await;
        let (s, _) = fail_one(&server).await;
        let (rcpt, data) = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
            .await
            .unwrap_or_else(|_| panic!("{tls:?}: the email arrived"))
            .unwrap();
        assert_eq!(rcpt, s.learner.email, "{tls:?}");
        assert!(
            data.contains("Subject: Proctoring attempt rejected"),
            "{tls:?}: {data}"
        );
    }
}

/// A relay whose certificate nobody vouches for (its authority not given with `--ca-file`)
/// gets no learner data: the email waits, and says why.
#[tokio::test]
async fn a_relay_whose_certificate_nobody_vouches_for_gets_no_email() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "relay");
    let (addr, mut inbox) =
        common::smtp::tls_sink(Tls::Implicit, &ca, dir.path(), "mailer", "secret").await;
    let (server, _dir) = server_mailing_to(&format!("smtps://mailer:secret@{addr}")).await;
    fail_one(&server).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let why = loop {
        let queued = queued_emails(&server).await;
        if let Some(why) = queued.iter().find_map(|m| m.last_error.clone()) {
            break why;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery was attempted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(why.contains("certificate"), "{why}");
    assert!(inbox.try_recv().is_err(), "nothing reached the relay");
}
