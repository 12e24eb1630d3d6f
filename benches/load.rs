//! `cargo bench --bench load`: the review server under a course team's load, SQLite and
//! PostgreSQL side by side: decisions (expected status given, as the console sends them),
//! the first page, searches and learner detail, each with 1 and 8 clients at once. Prints
//! req/s, p50 and p99 per backend; asserts nothing.
//!
//! Then a backlog of `LOAD_MAIL` (default 20 000) learner emails drains over SMTP to a
//! local sink with `--mail-per-second 0`, on SQLite.
//!
//! `LOAD_SESSIONS` (default 100 000) sessions are seeded once into `target/load-bench/`;
//! each run decides on a fresh copy. PostgreSQL runs when `LOAD_PG` (an admin URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) answers: a fresh database per run, filled
//! by `db copy`. `LOAD_DECISIONS` (default 2 000) decisions per client count.

use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::client::ApiClient;
use proctor_review::demo;
use proctor_review::domain::{AttemptStatus, Verdict};
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
async fn seeded(n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/load-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(format!("demo-{n}.sqlite3"));
    if db.exists() {
        return db;
    }
    let partial = dir.join(format!("demo-{n}.partial.sqlite3"));
    let _ = std::fs::remove_file(&partial);
    let store = SqliteStore::open(&partial).unwrap();
    let t = Instant::now();
    store
        .seed_batches(Box::new(demo::batches(n, demo::DEMO_SEED).unwrap()))
        .await
        .unwrap();
    println!("seeded {n} sessions in {:.1} s", t.elapsed().as_secs_f64());
    drop(store);
    let c = rusqlite::Connection::open(&partial).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(c);
    std::fs::rename(&partial, &db).unwrap();
    db
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
async fn postgres(sqlite: &Path) -> Option<(String, String)> {
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
    println!("db copy to PostgreSQL: {:.1} s", t.elapsed().as_secs_f64());
    Some((admin, url))
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
    FirstPage,
    Search(&'static str),
    Detail(i64),
}

async fn ask(api: &ApiClient, work: &Work) -> bool {
    match work {
        Work::FirstPage => api.sessions(EXAM, &SessionQuery::default()).await.is_ok(),
        Work::Search(q) => api
            .sessions(
                EXAM,
                &SessionQuery {
                    q: (*q).into(),
                    ..SessionQuery::default()
                },
            )
            .await
            .is_ok(),
        Work::Detail(id) => api.session(*id).await.is_ok(),
    }
}

/// `runs` requests by each of `clients` at once, each timed; `request(api, client, run)`
/// makes one and answers whether it succeeded.
async fn by_clients<F, Fut>(s: &Server, clients: usize, runs: usize, request: F) -> Figures
where
    F: Fn(ApiClient, usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let t = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let api = ApiClient::new(&s.url, &s.token).unwrap();
            let request = request.clone();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(runs);
                let mut failed = 0;
                for i in 0..runs {
                    let t = Instant::now();
                    if !request(api.clone(), c, i).await {
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

/// Every kind of work on one backend, in table order.
async fn run_on(db: &str, sessions: &[i64]) -> Vec<(String, Figures)> {
    let s = serve(db);
    let mut out = Vec::new();
    let per_client = env_usize("LOAD_DECISIONS", 2_000) / 8;
    let (one, eight) = sessions.split_at(per_client);
    out.push(("decisions, 1 client".into(), decide(&s, one, 1).await));
    out.push((
        "decisions, 8 clients".into(),
        decide(&s, &eight[..per_client * 8], 8).await,
    ));
    let works = [
        ("first page", Work::FirstPage),
        ("search 'garc' (name)", Work::Search("garc")),
        ("search 'example.edu' (email)", Work::Search("example.edu")),
        ("search 'zzqx' (no match)", Work::Search("zzqx")),
        ("learner detail", Work::Detail(EXAM + 4 * 1000)),
    ];
    for (name, work) in works {
        out.push((
            format!("{name}, 1 client"),
            measure(&s, &work, 1, 200).await,
        ));
        out.push((
            format!("{name}, 8 clients"),
            measure(&s, &work, 8, 50).await,
        ));
    }
    out
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
    // Copies of one decision's email, each its own job, due now.
    c.execute(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
         INSERT INTO jobs (kind, payload, state, next_attempt_at, created, decision_id)
         SELECT 'email', j.payload, 'queued', j.created, j.created, j.decision_id
         FROM k, (SELECT * FROM jobs WHERE kind = 'email' LIMIT 1) j",
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

async fn run() {
    let n = env_usize("LOAD_SESSIONS", 100_000);
    let db = seeded(n).await;
    let wanted = env_usize("LOAD_DECISIONS", 2_000) / 8 * 9;
    let sessions = attention(&db, wanted);
    assert!(
        sessions.len() >= wanted,
        "{} sessions need attention; {wanted} wanted",
        sessions.len()
    );
    let (_dir, copy) = fresh_copy(&db);
    let lite = run_on(copy.to_str().unwrap(), &sessions).await;
    let lite_report = report_rate(&SqliteStore::open(&copy).unwrap()).await;
    let mails = env_usize("LOAD_MAIL", 20_000);
    let (rate, took) = mail_drain(&copy, mails).await;
    let pg = match postgres(&db).await {
        Some((admin, url)) => {
            let figures = run_on(&url, &sessions).await;
            let store =
                proctor_review::store::postgres::PgStore::connect(&url, Duration::from_secs(3600))
                    .await
                    .unwrap();
            let report = report_rate(&store).await;
            drop(store);
            drop_database(&admin, &url).await;
            Some((figures, report))
        }
        None => None,
    };
    println!("\n{n} sessions; req/s, p50 and p99 in ms (!n: failed requests)");
    println!("{:<42} {:>28} {:>28}", "work", "SQLite", "PostgreSQL");
    for (i, (name, f)) in lite.iter().enumerate() {
        let other = pg.as_ref().map(|p| &p.0[i].1);
        println!("{name:<42} {} {}", cell(Some(f)), cell(other));
    }
    let pg_report = pg
        .as_ref()
        .map_or("—".to_owned(), |p| format!("{:.0} rows/s", p.1));
    println!(
        "{:<42} {:>22.0} rows/s {pg_report:>28}",
        "report rows streamed", lite_report
    );
    println!(
        "\n{mails} learner emails over SMTP, no limit (SQLite): {rate:.0}/s, drained in {took:.1} s"
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
