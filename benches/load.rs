//! `cargo bench --bench load`: the review server under a course team's load, SQLite and
//! PostgreSQL side by side: decisions (expected status given, as the console sends them),
//! every page (first, by cursor, each sort both ways), four kinds of search and learner
//! detail, each with 1 and 8 clients at once, then reading while decisions run. Prints
//! req/s, p50 and p99 per backend; asserts nothing.
//!
//! Then a backlog of `LOAD_MAIL` (default 20 000) learner emails drains over SMTP to a
//! local sink with `--mail-per-second 0`, on SQLite.
//!
//! `LOAD_SESSIONS` (default 100 000) sessions are seeded once into `target/load-bench/`;
//! each run decides on a fresh copy. PostgreSQL runs when `LOAD_PG` (an admin URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) answers: a fresh database per run, filled
//! by `db copy`. `LOAD_DECISIONS` (default 2 000) decisions per client count.
//!
//! `LOAD_ONLY=decisions` measures decisions alone (1 and 8 clients, both backends);
//! `LOAD_ONLY=report` the report's rate on both and `db copy`'s time;
//! `LOAD_ONLY=team` measures the team's figures instead (issue #26): a claim's round trip
//! (taken on one connection, heard on another's event stream) and the course's stats after
//! `LOAD_TEAM_DECISIONS` (default 8 000) decisions, on both backends.

use proctor_review::api::{DecisionRequest, SessionQuery, SortKey};
use proctor_review::client::ApiClient;
use proctor_review::demo;
use proctor_review::domain::{AttemptStatus, Verdict};
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod peer;
mod support;
use support::{Server, serve, serve_with};
/// The exam of a quarter of the sessions.
const EXAM: i64 = 2;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seeds (once) and answers the database of `n` sessions.
/// Seconds seeding took, or `None` when the database was kept from an earlier run.
async fn seeded(n: usize) -> (PathBuf, Option<f64>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/load-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(format!("demo-{n}.sqlite3"));
    if db.exists() {
        return (db, None);
    }
    let partial = dir.join(format!("demo-{n}.partial.sqlite3"));
    let _ = std::fs::remove_file(&partial);
    let store = SqliteStore::open(&partial).unwrap();
    let t = Instant::now();
    store
        .seed_batches(Box::new(demo::batches(n, demo::DEMO_SEED).unwrap()))
        .await
        .unwrap();
    let took = t.elapsed().as_secs_f64();
    drop(store);
    let c = rusqlite::Connection::open(&partial).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(c);
    std::fs::rename(&partial, &db).unwrap();
    (db, Some(took))
}

/// A copy of `db` to decide on, in a folder of its own.
fn fresh_copy(db: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(db.parent().unwrap()).unwrap();
    let copy = dir.path().join("review.sqlite3");
    std::fs::copy(db, &copy).unwrap();
    (dir, copy)
}

/// Require Attention sessions, by id.
fn attention(db: &Path, n: usize) -> Vec<i64> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT id FROM sessions WHERE status = 'second_review_required' ORDER BY id LIMIT ?1",
        )
        .unwrap();
    stmt.query_map([n as i64], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A fresh PostgreSQL database holding `sqlite`'s data, if PostgreSQL answers.
/// Its admin URL, its URL and the seconds `db copy` took.
async fn postgres(sqlite: &Path) -> Option<(String, String, f64)> {
    let admin = std::env::var("LOAD_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(connection);
    let name = format!("proctor_review_load_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        client.batch_execute(&sql).await.unwrap();
    }
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    let store = proctor_review::store::postgres::PgStore::connect(&url, Duration::from_secs(3600))
        .await
        .unwrap();
    let t = Instant::now();
    store.copy_from_sqlite(sqlite).await.unwrap();
    Some((admin, url, t.elapsed().as_secs_f64()))
}

async fn drop_database(admin: &str, url: &str) {
    let name = url.rsplit('/').next().unwrap().to_owned();
    if let Ok((client, connection)) = tokio_postgres::connect(admin, tokio_postgres::NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// What one run measured: requests a second, p50 and p99 in ms, and failures.
#[derive(Clone, Copy, Default)]
struct Figures {
    per_second: f64,
    p50: f64,
    p99: f64,
    failed: usize,
}

fn figures(mut times: Vec<Duration>, wall: Duration, failed: usize) -> Figures {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    Figures {
        per_second: times.len() as f64 / wall.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        failed,
    }
}

#[derive(Clone)]
enum Work {
    /// A page of the exam's list: the first (no cursor) or the one after `after`.
    Page {
        sort: SortKey,
        desc: bool,
        after: String,
    },
    Search(String),
    Detail(i64),
}

async fn ask(api: &ApiClient, work: &Work) -> bool {
    match work {
        Work::Page { sort, desc, after } => api
            .sessions(
                EXAM,
                &SessionQuery {
                    sort: *sort,
                    desc: *desc,
                    after: after.clone(),
                    ..SessionQuery::default()
                },
            )
            .await
            .is_ok(),
        Work::Search(q) => api
            .sessions(
                EXAM,
                &SessionQuery {
                    q: q.clone(),
                    ..SessionQuery::default()
                },
            )
            .await
            .is_ok(),
        Work::Detail(id) => api.session(*id).await.is_ok(),
    }
}

fn first_page(sort: SortKey, desc: bool) -> Work {
    Work::Page {
        sort,
        desc,
        after: String::new(),
    }
}

/// `runs` requests by each of `clients` at once, each timed; `request(client, run)` makes
/// one and answers whether it succeeded.
async fn timed<F, Fut>(clients: usize, runs: usize, request: F) -> Figures
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let t = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(runs);
                let mut failed = 0;
                for i in 0..runs {
                    let t = Instant::now();
                    if !request(c, i).await {
                        failed += 1;
                    }
                    times.push(t.elapsed());
                }
                (times, failed)
            })
        })
        .collect();
    let (mut times, mut failed) = (Vec::new(), 0);
    for task in tasks {
        let (t, f) = task.await.unwrap();
        times.extend(t);
        failed += f;
    }
    figures(times, t.elapsed(), failed)
}

/// As [`timed`], each client with an API client of its own on `s`.
async fn by_clients<F, Fut>(s: &Server, clients: usize, runs: usize, request: F) -> Figures
where
    F: Fn(ApiClient, usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let apis: Arc<Vec<ApiClient>> = Arc::new(
        (0..clients)
            .map(|_| ApiClient::new(&s.url, &s.token).unwrap())
            .collect(),
    );
    timed(clients, runs, move |c, i| request(apis[c].clone(), c, i)).await
}

/// `work` asked `runs` times by each of `clients` at once.
async fn measure(s: &Server, work: &Work, clients: usize, runs: usize) -> Figures {
    let work = Arc::new(work.clone());
    by_clients(s, clients, runs, move |api, _, _| {
        let work = work.clone();
        async move { ask(&api, &work).await }
    })
    .await
}

/// Each of `clients` fails its share of `sessions`, one after another, as a reviewer would.
async fn decide(s: &Server, sessions: &[i64], clients: usize) -> Figures {
    let sessions = Arc::new(sessions.to_vec());
    let per = sessions.len() / clients;
    by_clients(s, clients, per, move |api, c, i| {
        let id = sessions[c * per + i];
        async move {
            let req = DecisionRequest {
                verdict: Verdict::Fail,
                reason: "load benchmark".into(),
                expected_status: Some(AttemptStatus::SecondReviewRequired),
                idempotency_key: None,
            };
            api.decide(id, &req).await.is_ok()
        }
    })
    .await
}

/// What the list's and searches' arguments are: a page deep in the list, a learner's
/// email and a session's attempt code, all from the exam measured.
struct Probes {
    deep_cursor: String,
    email: String,
    attempt_code: String,
}

async fn probes(s: &Server, db: &Path) -> Probes {
    let api = ApiClient::new(&s.url, &s.token).unwrap();
    // The cursor of row ~1 000: `next` of a page read by offset.
    let page = api
        .sessions(
            EXAM,
            &SessionQuery {
                offset: 1_000,
                ..SessionQuery::default()
            },
        )
        .await
        .unwrap();
    let c = rusqlite::Connection::open(db).unwrap();
    let (email, attempt_code) = c
        .query_row(
            "SELECT l.email, s.attempt_code FROM sessions s JOIN learners l ON l.id = s.learner_id
             WHERE s.exam_id = ?1 ORDER BY s.id DESC LIMIT 1",
            [EXAM],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    Probes {
        deep_cursor: page.next.unwrap_or_default(),
        email,
        attempt_code,
    }
}

/// Every kind of work on one backend, in table order, and the server's peak memory (MiB).
async fn run_on(db: &str, sessions: &[i64], probes: &Probes) -> (Vec<(String, Figures)>, u64) {
    let s = serve(db);
    let mut out = Vec::new();
    let per_client = env_usize("LOAD_DECISIONS", 2_000) / 8;
    let (one, rest) = sessions.split_at(per_client);
    let (eight, during) = rest.split_at(per_client * 8);
    out.push((labelled("decisions", 1), decide(&s, one, 1).await));
    out.push((labelled("decisions", 8), decide(&s, eight, 8).await));
    let detail = Work::Detail(EXAM + 4 * 1000);
    let default = SessionQuery::default();
    let mut works = vec![
        (
            "first page".to_owned(),
            first_page(default.sort, default.desc),
        ),
        (
            "next page (cursor, row ~1000)".to_owned(),
            Work::Page {
                sort: default.sort,
                desc: default.desc,
                after: probes.deep_cursor.clone(),
            },
        ),
    ];
    for sort in SortKey::ALL {
        for desc in [false, true] {
            let way = if desc { "desc" } else { "asc" };
            works.push((
                format!("first page by {} {way}", sort.label()),
                first_page(sort, desc),
            ));
        }
    }
    works.extend([
        (
            "search 'garc' (name)".to_owned(),
            Work::Search("garc".into()),
        ),
        (
            "search 'example.edu' (every email)".to_owned(),
            Work::Search("example.edu".into()),
        ),
        (
            "search a learner's email".to_owned(),
            Work::Search(probes.email.clone()),
        ),
        (
            "search an attempt code".to_owned(),
            Work::Search(probes.attempt_code.clone()),
        ),
        (
            "search 'zzqx' (no match)".to_owned(),
            Work::Search("zzqx".into()),
        ),
        ("learner detail".to_owned(), detail.clone()),
    ]);
    for (name, work) in works {
        out.push((labelled(&name, 1), measure(&s, &work, 1, 200).await));
        out.push((labelled(&name, 8), measure(&s, &work, 8, 50).await));
    }
    // Reading while a course team decides: 4 reviewers decide while 4 read.
    let first = first_page(default.sort, default.desc);
    let (decided, page, detail) = tokio::join!(
        decide(&s, &during[..per_client * 4], 4),
        measure(&s, &first, 4, 100),
        measure(&s, &detail, 4, 100),
    );
    out.push(("decisions, 4 clients, while 8 read".into(), decided));
    out.push(("first page, 4 clients, while 4 decide".into(), page));
    out.push(("learner detail, 4 clients, while 4 decide".into(), detail));
    let peak = s.memory_mib().1;
    (out, peak)
}

/// A mail server that takes every message at once and counts it.
async fn smtp_sink() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = taken.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            // A relay answers pipelined commands at once (Postfix batches its replies);
            // a reply held back for the client's delayed ACK would time the sink, not us.
            let _ = sock.set_nodelay(true);
            let count = count.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if data {
                        if line != "." {
                            continue;
                        }
                        data = false;
                        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        b"250 queued\r\n"
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") => b"250-sink\r\n250 PIPELINING\r\n",
                            Some("DATA") => {
                                data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (url, taken)
}

/// `n` learner emails queued in `db` at once, sent over SMTP as fast as the sink takes
/// them: emails a second, and how long the backlog took.
async fn mail_drain(db: &Path, n: usize) -> (f64, f64) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch("UPDATE jobs SET state = 'done' WHERE kind = 'email' AND state <> 'done'")
        .unwrap();
    // Copies of the decisions' emails, each its own job, due now, spread over the decisions
    // made: each session's history holds a few emails, as a real one does (copies of one
    // decision's email made every history read, and so every email's news, 20 000 rows).
    c.execute(
        "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ?1 - 1),
              made AS (SELECT payload, created, decision_id,
                              ROW_NUMBER() OVER (ORDER BY id) - 1 AS rn
                       FROM jobs WHERE kind = 'email')
         INSERT INTO jobs (kind, payload, state, next_attempt_at, created, decision_id)
         SELECT 'email', m.payload, 'queued', m.created, m.created, m.decision_id
         FROM k JOIN made m ON m.rn = k.i % (SELECT COUNT(*) FROM made)",
        [n as i64],
    )
    .unwrap();
    drop(c);
    let (url, taken) = smtp_sink().await;
    let server = serve_with(
        db.to_str().unwrap(),
        &["--smtp-url", &url, "--mail-per-second", "0"],
    );
    let t = Instant::now();
    let deadline = t + Duration::from_secs(600);
    while taken.load(std::sync::atomic::Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = t.elapsed().as_secs_f64();
    drop(server);
    (
        taken.load(std::sync::atomic::Ordering::Relaxed) as f64 / took,
        took,
    )
}

fn cell(f: Option<&Figures>) -> String {
    match f {
        None => format!("{:>28}", "—"),
        Some(f) => {
            let failed = if f.failed > 0 {
                format!(" !{}", f.failed)
            } else {
                String::new()
            };
            format!(
                "{:>8.0}/s {:>6.2} {:>7.2}{failed}",
                f.per_second, f.p50, f.p99
            )
        }
    }
}

/// The demo's first course, three of every four sessions.
const COURSE: &str = "course-v1:MITx+6.0001x+2026_Fall";

/// The results report of [`COURSE`] streamed from `store` (no file written): rows a second.
async fn report_rate<S: proctor_review::store::Store>(store: &S) -> f64 {
    let t = Instant::now();
    let rows = store.report_rows(COURSE.into(), |_| Ok(())).await.unwrap();
    rows as f64 / t.elapsed().as_secs_f64()
}

/// A work's row name with how many clients asked at once, as both sides' tables name it.
fn labelled(name: &str, clients: usize) -> String {
    match clients {
        1 => format!("{name}, 1 client"),
        n => format!("{name}, {n} clients"),
    }
}

/// The peer's figures for the works both sides do, named as ours are.
async fn run_peer(attempts: usize) -> Result<Vec<(String, Figures)>, String> {
    let peer = Arc::new(peer::start(attempts).await?);
    let http = reqwest::Client::new();
    let asks = [
        ("first page", peer::Ask::Page(1)),
        ("next page (cursor, row ~1000)", peer::Ask::Page(40)),
        ("search 'garc' (name)", peer::Ask::Search("garc".into())),
        (
            "search a learner's email",
            peer::Ask::Search(peer.seeded.email.clone()),
        ),
        ("search 'zzqx' (no match)", peer::Ask::Search("zzqx".into())),
        ("learner detail", peer::Ask::Detail),
    ];
    let mut out = Vec::new();
    let runs = env_usize("LOAD_PEER_RUNS", 16);
    for (name, ask) in asks {
        for clients in [1, 8] {
            let (peer, http, ask) = (peer.clone(), http.clone(), Arc::new(ask.clone()));
            let f = timed(clients, runs.div_ceil(clients).max(2), move |_, _| {
                let (peer, http, ask) = (peer.clone(), http.clone(), ask.clone());
                async move { peer::ask(&http, &peer, &ask).await }
            })
            .await;
            out.push((labelled(name, clients), f));
        }
    }
    let ids = Arc::new(peer.seeded.external_ids.clone());
    let per = env_usize("LOAD_PEER_DECISIONS", 64) / 8;
    for (clients, skip) in [(1, 0), (8, per * 8)] {
        let runs = per * 8 / clients;
        let (peer, http, ids) = (peer.clone(), http.clone(), ids.clone());
        let f = timed(clients, runs, move |c, i| {
            let (peer, http) = (peer.clone(), http.clone());
            let id = ids[skip + c * runs + i].clone();
            async move { peer::fail(&http, &peer, &id).await }
        })
        .await;
        out.push((labelled("decisions", clients), f));
    }
    Ok(out)
}

/// Our figures over the peer's, for each work the peer did.
fn print_ratios(peer: &[(String, Figures)], lite: &Backend, pg: Option<&Backend>) {
    println!(
        "\nedx-proctoring 6.1.4 (gunicorn, 4 workers, {} attempts in the exam): req/s, p50, p99; and how many times as many requests a second we answer",
        env_usize("LOAD_PEER_ATTEMPTS", 10_000)
    );
    println!(
        "{:<50} {:>28} {:>10} {:>10}",
        "work", "edx-proctoring", "SQLite ×", "PG ×"
    );
    let ours = |b: &Backend, name: &str| {
        b.works
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.per_second)
    };
    for (name, f) in peer {
        let ratio = |b: Option<&Backend>| {
            b.and_then(|b| ours(b, name))
                .map_or("—".to_owned(), |v| format!("{:.0}×", v / f.per_second))
        };
        println!(
            "{name:<50} {} {:>10} {:>10}",
            cell(Some(f)),
            ratio(Some(lite)),
            ratio(pg)
        );
    }
}

/// One backend's figures: each work's, the server's peak memory, the report's rows a second.
struct Backend {
    works: Vec<(String, Figures)>,
    peak_mib: u64,
    report: f64,
}

/// A claim's round trip and the course's stats on `db`, after deciding `sessions`.
async fn team_figures(db: &str, sessions: &[i64]) -> (Figures, Figures) {
    let s = serve(db);
    decide(&s, sessions, 8).await;
    let stats = by_clients(&s, 1, 50, |api, _, _| async move {
        api.stats(COURSE, "7d").await.is_ok()
    })
    .await;
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let (opened_tx, opened) = tokio::sync::oneshot::channel();
    let follower = ApiClient::new(&s.url, &s.token).unwrap();
    let stream = tokio::spawn(async move {
        let mut opened_tx = Some(opened_tx);
        let _ = follower
            .events(
                None,
                move || {
                    if let Some(o) = opened_tx.take() {
                        let _ = o.send(());
                    }
                },
                move |e| {
                    if e.kind == proctor_review::api::ChangeKind::Claimed {
                        let _ = tx.send((e.session_id, Instant::now()));
                    }
                },
            )
            .await;
    });
    opened.await.unwrap();
    let api = ApiClient::new(&s.url, &s.token).unwrap();
    let (t0, mut times) = (Instant::now(), Vec::new());
    for &id in sessions.iter().take(300) {
        let t = Instant::now();
        api.claim(id).await.unwrap();
        while let Some((session, at)) = heard.recv().await {
            if session == id {
                times.push(at - t);
                break;
            }
        }
        api.release(id).await.unwrap();
    }
    stream.abort();
    (figures(times, t0.elapsed(), 0), stats)
}

async fn run_team(db: &Path) {
    let wanted = env_usize("LOAD_TEAM_DECISIONS", 8_000);
    let sessions = attention(db, wanted);
    let (_dir, copy) = fresh_copy(db);
    let lite = team_figures(copy.to_str().unwrap(), &sessions).await;
    let pg = match postgres(db).await {
        Some((admin, url, _)) => {
            let figures = team_figures(&url, &sessions).await;
            drop_database(&admin, &url).await;
            Some(figures)
        }
        None => None,
    };
    println!(
        "\n{} decisions, then: req/s, p50 and p99 in ms",
        sessions.len()
    );
    println!("{:<50} {:>28} {:>28}", "work", "SQLite", "PostgreSQL");
    println!(
        "{:<50} {} {}",
        "claim → heard on another stream",
        cell(Some(&lite.0)),
        cell(pg.as_ref().map(|p| &p.0))
    );
    println!(
        "{:<50} {} {}",
        "course stats (14 days, 7-day window)",
        cell(Some(&lite.1)),
        cell(pg.as_ref().map(|p| &p.1))
    );
}

/// The report's rows a second on both backends, and how long `db copy` took to fill
/// PostgreSQL: the figures for read-path and bulk work in a minute or two.
async fn run_report(db: &Path) {
    let lite = report_rate(&SqliteStore::open(db).unwrap()).await;
    println!("report rows streamed, SQLite: {lite:.0} rows/s");
    if let Some((admin, url, copy_secs)) = postgres(db).await {
        println!("db copy SQLite -> PostgreSQL: {copy_secs:.1} s");
        let store =
            proctor_review::store::postgres::PgStore::connect(&url, Duration::from_secs(3600))
                .await
                .unwrap();
        let pg = report_rate(&store).await;
        println!("report rows streamed, PostgreSQL: {pg:.0} rows/s");
        drop(store);
        drop_database(&admin, &url).await;
    }
}

async fn run() {
    let only = std::env::var("LOAD_ONLY").unwrap_or_default();
    if only == "peer" {
        let peer = run_peer(env_usize("LOAD_PEER_ATTEMPTS", 10_000)).await;
        for (name, f) in peer.unwrap_or_else(|e| panic!("{e}")) {
            println!("{name:<50} {}", cell(Some(&f)));
        }
        return;
    }
    let n = env_usize("LOAD_SESSIONS", 100_000);
    let (db, seeding) = seeded(n).await;
    if only == "team" {
        run_team(&db).await;
        return;
    }
    if only == "mail" {
        let (_dir, copy) = fresh_copy(&db);
        // Decisions' emails are what the backlog is made of.
        decide(&serve(copy.to_str().unwrap()), &attention(&db, 2_000), 8).await;
        let mails = env_usize("LOAD_MAIL", 20_000);
        let (rate, took) = mail_drain(&copy, mails).await;
        println!("{mails} learner emails over SMTP, no limit: {rate:.0}/s, drained in {took:.1} s");
        return;
    }
    if only == "report" {
        if let Some(secs) = seeding {
            println!("seeded {n} sessions in {secs:.1} s");
        }
        run_report(&db).await;
        return;
    }
    let wanted = env_usize("LOAD_DECISIONS", 2_000) / 8 * 13;
    let sessions = attention(&db, wanted);
    if only == "decisions" {
        run_decisions(&db, &sessions).await;
        return;
    }
    assert!(
        sessions.len() >= wanted,
        "{} sessions need attention; {wanted} wanted",
        sessions.len()
    );
    let (_dir, copy) = fresh_copy(&db);
    let probes = {
        let s = serve(copy.to_str().unwrap());
        probes(&s, &copy).await
    };
    let (works, peak_mib) = run_on(copy.to_str().unwrap(), &sessions, &probes).await;
    let lite = Backend {
        works,
        peak_mib,
        report: report_rate(&SqliteStore::open(&copy).unwrap()).await,
    };
    let mails = env_usize("LOAD_MAIL", 20_000);
    let (rate, took) = mail_drain(&copy, mails).await;
    let mut copied = None;
    let pg = match postgres(&db).await {
        Some((admin, url, copy_secs)) => {
            copied = Some(copy_secs);
            let (works, peak_mib) = run_on(&url, &sessions, &probes).await;
            let store =
                proctor_review::store::postgres::PgStore::connect(&url, Duration::from_secs(3600))
                    .await
                    .unwrap();
            let report = report_rate(&store).await;
            drop(store);
            drop_database(&admin, &url).await;
            Some(Backend {
                works,
                peak_mib,
                report,
            })
        }
        None => None,
    };
    println!("\n{n} sessions; req/s, p50 and p99 in ms (!n: failed requests)");
    println!("{:<50} {:>28} {:>28}", "work", "SQLite", "PostgreSQL");
    for (i, (name, f)) in lite.works.iter().enumerate() {
        let other = pg.as_ref().map(|p| &p.works[i].1);
        println!("{name:<50} {} {}", cell(Some(f)), cell(other));
    }
    let pg_cell = |f: &dyn Fn(&Backend) -> String| pg.as_ref().map_or("—".to_owned(), f);
    println!(
        "{:<50} {:>28} {:>28}",
        "report rows streamed",
        format!("{:.0} rows/s", lite.report),
        pg_cell(&|p| format!("{:.0} rows/s", p.report))
    );
    println!(
        "{:<50} {:>28} {:>28}",
        "server peak memory (RSS)",
        format!("{} MiB", lite.peak_mib),
        pg_cell(&|p| format!("{} MiB", p.peak_mib))
    );
    let secs = |s: Option<f64>| s.map_or("— (kept)".to_owned(), |s| format!("{s:.1} s"));
    println!("{:<50} {:>28} {:>28}", "seeding", secs(seeding), "");
    println!(
        "{:<50} {:>28} {:>28}",
        "db copy SQLite → PostgreSQL",
        "",
        secs(copied)
    );
    println!(
        "\n{mails} learner emails over SMTP, no limit (SQLite): {rate:.0}/s, drained in {took:.1} s"
    );
    if std::env::args().any(|a| a == "--peer") {
        match run_peer(env_usize("LOAD_PEER_ATTEMPTS", 10_000)).await {
            Ok(peer) => print_ratios(&peer, &lite, pg.as_ref()),
            Err(e) => println!("\nedx-proctoring peer: not measured: {e}"),
        }
    }
}

/// Decisions alone, with 1 and 8 clients, on both backends: for work on the write path.
async fn run_decisions(db: &Path, sessions: &[i64]) {
    let per_client = env_usize("LOAD_DECISIONS", 2_000) / 8;
    let (one, rest) = sessions.split_at(per_client);
    let eight = &rest[..per_client * 8];
    let on = |url: String| async move {
        let s = serve(&url);
        let figures = [decide(&s, one, 1).await, decide(&s, eight, 8).await];
        drop(s);
        figures
    };
    let (_dir, copy) = fresh_copy(db);
    let lite = on(copy.to_str().unwrap().to_owned()).await;
    let pg = match postgres(db).await {
        Some((admin, url, _)) => {
            let figures = on(url.clone()).await;
            drop_database(&admin, &url).await;
            Some(figures)
        }
        None => None,
    };
    println!("{:<50} {:>28} {:>28}", "work", "SQLite", "PostgreSQL");
    for (i, clients) in [1, 8].into_iter().enumerate() {
        println!(
            "{:<50} {} {}",
            labelled("decisions", clients),
            cell(Some(&lite[i])),
            cell(pg.as_ref().map(|p| &p[i]))
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
