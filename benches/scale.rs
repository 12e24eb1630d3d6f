//! `cargo bench --bench scale`: every kind of Sessions query against the review server
//! holding 100 000 and 1 000 000 demo sessions (an exam of 25 000 / 250 000), with one client
//! and with eight at once; prints p50/p99 per query. Asserts nothing.
//!
//! The seeded databases are kept in `target/scale-bench/` and reused (delete to re-seed).
//! `SCALE_SIZES=100000` limits the sizes. With `SCALE_PG` (an admin URL, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) the same runs follow on PostgreSQL, in a
//! database `proctor_review_scale_N` filled once by `db copy` from the SQLite one
//! (`SCALE_ONLY_PG=1` skips the SQLite runs).

use proctor_review::api::{SessionQuery, SortKey};
use proctor_review::client::ApiClient;
use proctor_review::demo;
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;
use support::{Server, serve};
/// The exam of a quarter of the sessions.
const EXAM: i64 = 2;

fn pct(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort();
    samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
}

/// Seeds (once) and answers the database of `n` sessions.
async fn database(n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/scale-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(format!("demo-{n}.sqlite3"));
    if db.exists() {
        return db;
    }
    let partial = dir.join(format!("demo-{n}.partial.sqlite3"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    let store = SqliteStore::open(&partial).unwrap();
    let rss = rss_kib();
    let t = Instant::now();
    store
        .seed_batches(Box::new(demo::batches(n, demo::DEMO_SEED).unwrap()))
        .await
        .unwrap();
    println!(
        "seed {n:>9} sessions: {:>6.1} s, process memory {} → {} MiB (peak {} MiB)",
        t.elapsed().as_secs_f64(),
        rss / 1024,
        rss_kib() / 1024,
        peak_kib() / 1024
    );
    drop(store);
    // One file: the WAL folded in.
    let c = rusqlite::Connection::open(&partial).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(c);
    std::fs::rename(&partial, &db).unwrap();
    db
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}
fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}
fn peak_kib() -> u64 {
    status_kib("VmHWM:")
}

#[derive(Clone)]
enum Ask {
    Page(SessionQuery),
    Courses,
    Detail(i64),
}

/// Asks once; a refusal (a query stopped at its budget: 503) is counted, not fatal.
async fn ask(api: &ApiClient, what: &Ask) -> bool {
    match what {
        Ask::Page(q) => api.sessions(EXAM, q).await.is_ok(),
        Ask::Courses => api.courses().await.is_ok(),
        Ask::Detail(id) => api.session(*id).await.is_ok(),
    }
}

/// p50 and p99 of `what` asked `runs` times by each of `clients` at once, and how many
/// answers were refusals.
async fn measure(s: &Server, what: &Ask, clients: usize, runs: usize) -> (f64, f64, usize) {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let api = ApiClient::new(&s.url, &s.token).unwrap();
        let what = what.clone();
        tasks.push(tokio::spawn(async move {
            ask(&api, &what).await;
            let mut out = Vec::with_capacity(runs);
            let mut refused = 0;
            for _ in 0..runs {
                let t = Instant::now();
                if !ask(&api, &what).await {
                    refused += 1;
                }
                out.push(t.elapsed());
            }
            (out, refused)
        }));
    }
    let mut all = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (times, n) = t.await.unwrap();
        all.extend(times);
        refused += n;
    }
    (pct(&mut all, 0.5), pct(&mut all, 0.99), refused)
}

fn q(sort: SortKey, desc: bool) -> SessionQuery {
    SessionQuery {
        sort,
        desc,
        ..SessionQuery::default()
    }
}

async fn queries(api: &ApiClient) -> Vec<(String, Ask)> {
    let mut out = vec![
        (
            "first page, default (⚑ first, newest)".to_owned(),
            Ask::Page(SessionQuery::default()),
        ),
        ("GET /courses (Quiz List counts)".to_owned(), Ask::Courses),
    ];
    for sort in SortKey::ALL {
        for desc in [false, true] {
            let dir = if desc { "desc" } else { "asc" };
            out.push((
                format!("first page by {} {dir}", sort.label()),
                Ask::Page(q(sort, desc)),
            ));
            out.push((
                format!("last page by {} {dir}", sort.label()),
                Ask::Page(SessionQuery {
                    last: true,
                    ..q(sort, desc)
                }),
            ));
        }
    }
    // A page in the middle, by the cursor a reviewer scrolling there would hold.
    for sort in [SortKey::Learner, SortKey::Duration] {
        let first = api.sessions(EXAM, &q(sort, false)).await.unwrap();
        let total = first.total;
        let mid = api
            .sessions(
                EXAM,
                &SessionQuery {
                    offset: total / 2,
                    ..q(sort, false)
                },
            )
            .await
            .unwrap();
        out.push((
            format!("middle page by {} (cursor)", sort.label()),
            Ask::Page(SessionQuery {
                after: mid.next.unwrap(),
                ..q(sort, false)
            }),
        ));
    }
    out.push((
        "middle page by offset (compatibility)".to_owned(),
        Ask::Page(SessionQuery {
            offset: 12_500,
            ..SessionQuery::default()
        }),
    ));
    out.push((
        "only ⚑, by violations desc".to_owned(),
        Ask::Page(SessionQuery {
            status: "second_review_required".into(),
            ..q(SortKey::Violations, true)
        }),
    ));
    for (what, text) in [
        ("search 'garc' (hits)", "garc"),
        ("search 'alvarez' (finds Álvarez)", "alvarez"),
        ("search 'edu' (every learner)", "edu"),
        ("search 'zzqx' (no hit)", "zzqx"),
        ("search 'ez' (two letters)", "ez"),
    ] {
        out.push((
            what.to_owned(),
            Ask::Page(SessionQuery {
                q: text.into(),
                ..SessionQuery::default()
            }),
        ));
    }
    out.push((
        "search 'edu', last page by name desc".to_owned(),
        Ask::Page(SessionQuery {
            q: "edu".into(),
            last: true,
            ..q(SortKey::Learner, true)
        }),
    ));
    out.push(("session detail".to_owned(), Ask::Detail(EXAM + 4 * 1000)));
    out
}

/// Session detail while eight other clients run the heaviest list queries without pause.
async fn detail_under_load(s: &Server) -> (f64, f64) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let heavy = [
        SessionQuery {
            q: "edu".into(),
            last: true,
            ..q(SortKey::Learner, true)
        },
        SessionQuery {
            offset: 12_500,
            ..q(SortKey::Duration, true)
        },
        SessionQuery {
            q: "ez".into(),
            ..q(SortKey::Username, false)
        },
        SessionQuery {
            last: true,
            ..q(SortKey::Status, false)
        },
    ];
    let mut load = Vec::new();
    for i in 0..8 {
        let api = ApiClient::new(&s.url, &s.token).unwrap();
        let query = heavy[i % heavy.len()].clone();
        let stop = stop.clone();
        load.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = api.sessions(EXAM, &query).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (p50, p99, _) = measure(s, &Ask::Detail(EXAM + 4 * 1000), 1, 200).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        let _ = l.await;
    }
    (p50, p99)
}

/// The PostgreSQL database of `n` sessions (copied once from `sqlite`), if asked for.
async fn postgres(n: usize, sqlite: &Path) -> Option<String> {
    let admin = std::env::var("SCALE_PG").ok()?;
    let name = format!("proctor_review_scale_{n}");
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let store =
            proctor_review::store::postgres::PgStore::connect(&url, Duration::from_secs(3600))
                .await
                .unwrap();
        let t = Instant::now();
        store.copy_from_sqlite(sqlite).await.unwrap();
        println!(
            "db copy {n:>9} sessions to PostgreSQL: {:>6.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    Some(url)
}

async fn run(n: usize) {
    let db = database(n).await;
    if std::env::var_os("SCALE_ONLY_PG").is_none() {
        run_on(n, "SQLite", &db).await;
    }
    if let Some(url) = postgres(n, &db).await {
        run_on(n, "PostgreSQL", Path::new(&url)).await;
    }
}

async fn run_on(n: usize, backend: &str, db: &Path) {
    let s = serve(db.to_str().unwrap());
    let api = ApiClient::new(&s.url, &s.token).unwrap();
    println!(
        "\n{backend}, {n} sessions (exam of {}): p50 / p99 ms",
        api.sessions(EXAM, &SessionQuery::default())
            .await
            .unwrap()
            .total
    );
    println!("{:<44} {:>17} {:>17}", "query", "1 client", "8 clients");
    for (name, what) in queries(&api).await {
        // 200 requests: a p99 of fewer is only the slowest one.
        let (a50, a99, a_refused) = measure(&s, &what, 1, 200).await;
        let (b50, b99, b_refused) = measure(&s, &what, 8, 10).await;
        let refused = match (a_refused, b_refused) {
            (0, 0) => String::new(),
            (a, b) => format!("  (503 over budget: {a}/200, {b}/80)"),
        };
        println!("{name:<44} {a50:>7.2} / {a99:>7.2} {b50:>7.2} / {b99:>7.2}{refused}");
    }
    let (d50, d99) = detail_under_load(&s).await;
    println!(
        "{:<44} {d50:>7.2} / {d99:>7.2}",
        "session detail under 8 heavy list clients"
    );
    println!(
        "{:<44} {:>7} MiB",
        "server memory after the runs",
        s.memory_mib().0
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("SCALE_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for n in sizes {
        rt.block_on(run(n));
    }
}
