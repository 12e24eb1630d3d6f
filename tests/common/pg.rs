//! A fresh PostgreSQL database per test, dropped afterwards. The server is the one at
//! `PROCTOR_REVIEW_TEST_PG` (an admin URL) or 127.0.0.1:5432 as `postgres`. When none
//! answers the test is skipped with a loud message, unless `PROCTOR_REVIEW_REQUIRE_PG` is
//! set (CI sets it): then it fails.

use std::sync::atomic::{AtomicUsize, Ordering};

const DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("PROCTOR_REVIEW_TEST_PG").unwrap_or_else(|_| DEFAULT.to_owned())
}

fn required() -> bool {
    std::env::var_os("PROCTOR_REVIEW_REQUIRE_PG").is_some_and(|v| !v.is_empty() && v != "0")
}

pub struct TestDb {
    pub url: String,
    name: String,
}

async fn admin() -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

impl TestDb {
    /// A new empty database, or `None` (after saying so) when no PostgreSQL answers.
    pub async fn create() -> Option<TestDb> {
        let client = match admin().await {
            Ok(c) => c,
            Err(e) if required() => panic!(
                "PostgreSQL tests are required (PROCTOR_REVIEW_REQUIRE_PG) but {} does not answer: {e}",
                admin_url()
            ),
            Err(e) => {
                eprintln!(
                    "\n!!! SKIPPED: no PostgreSQL at {} ({e}); set PROCTOR_REVIEW_TEST_PG to run the PostgreSQL tests\n",
                    admin_url()
                );
                return None;
            }
        };
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "proctor_review_test_{}_{}_{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database");
        let mut url = url::Url::parse(&admin_url()).expect("admin URL");
        url.set_path(&format!("/{name}"));
        Some(TestDb {
            url: url.to_string(),
            name,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime: the database is dropped from a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(c) = admin().await {
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}
