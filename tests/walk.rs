//! Issue #23's "done means": a reviewer's walk repeated in a real terminal at 80x24,
//! 100x30, 120x40 and 160x50 — five decisions from the queue, a search, a revocation —
//! checking what a reviewer reads: every learner's name whole or with at least 12 cells,
//! header counts that agree with the rows, the search chip only on the list it was made
//! in, and a plain message with no list left behind once access ends.

mod common;

use common::console::Console;
use common::peer::Ours;
use proctor_review::domain::text::{columns, take_columns};

const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 40), (160, 50)];

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// "⚑ 15 to review · 17 shown, 2 decided": the counts of the queue's header (to review,
/// shown, decided rows still in view).
fn header_counts(screen: &str) -> Option<(u64, u64, u64)> {
    let line = screen.lines().find(|l| l.contains(" to review · "))?;
    let num = |s: &str| -> Option<u64> { s.trim().replace(',', "").parse().ok() };
    // Beside the Quiz List the line also holds its "▶ ⚑37 Require Attention".
    let after_flag = line.split('⚑').find(|p| p.contains(" to review · "))?;
    let total = num(after_flag.split(" to review").next()?)?;
    let part = after_flag.split(" · ").nth(1)?;
    let shown = num(part.split(" shown").next()?.split('/').next()?)?;
    let decided = match part.split(", ").nth(1) {
        Some(d) => num(d.split(" decided").next()?)?,
        None => 0,
    };
    Some((total, shown, decided))
}

/// Every name of `names` that shows on the screen shows whole, or cut after at least 12
/// cells with "…".
fn names_readable(screen: &str, names: &[String]) -> Result<usize, String> {
    let mut seen = 0;
    for name in names {
        let head = take_columns(name, 4);
        let Some(line) = screen.lines().find(|l| l.contains(head)) else {
            continue;
        };
        seen += 1;
        if line.contains(name.as_str()) {
            continue;
        }
        let at = line.find(head).unwrap_or(0);
        let shown: String = line[at..].chars().take_while(|c| *c != '…').collect();
        if !line[at..].contains('…') || columns(shown.trim_end()) < 11 {
            return Err(format!("{name:?} shows as {:?}", &line[at..]));
        }
    }
    Ok(seen)
}

#[test]
fn the_reviewers_walk_reads_well_at_every_size() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "200"]);
    for (i, (cols, rows)) in SIZES.into_iter().enumerate() {
        let who = format!("walker{i}");
        let token = ours.reviewer(&who, &format!("{who}@example.edu"), "reviewer");
        let api = ours.api(&token);
        let dir = tempfile::tempdir().unwrap();
        let mut c = Console::start_sized(
            &["--server", &ours.url],
            dir.path(),
            &[("PROCTOR_REVIEW_TOKEN", &token)],
            (cols, rows),
        );
        let size = format!("{cols}x{rows}");
        c.wait_for("Require Attention");
        // Into the queue, then five Fails, each confirmed, each moving on to the next.
        c.keys("\r");
        let screen = c.until("the queue's rows", |s| {
            header_counts(s).is_some()
                && s.lines().any(|l| {
                    // A session row under the cursor, not the Quiz List's "▶ ⚑42 …".
                    l.split("▶ ")
                        .skip(1)
                        .any(|rest| !rest.starts_with('⚑') || rest.starts_with("⚑ Require"))
                })
        });
        let (start, ..) = header_counts(&screen).unwrap();
        for k in 1..=5u64 {
            c.keys("f");
            c.wait_for("This will:");
            c.keys("\r");
            // Counted, and answered: the live event that recounts may come before the
            // answer that closes the dialog, and keys sent meanwhile go to the dialog.
            c.until(&format!("{size}: decision {k} counted"), |s| {
                header_counts(s).is_some_and(|(total, ..)| total == start - k)
                    && !s.contains("This will:")
            });
        }
        let screen = c.text();
        let queue = block_on(api.queue(&Default::default())).unwrap();
        let (total, shown, decided) = header_counts(&screen).unwrap();
        assert_eq!(total, queue.total, "{size}: the header counts what is left");
        assert_eq!(
            shown - decided,
            total,
            "{size}: the rows shown are those to review and those just decided:\n{screen}"
        );
        let names: Vec<String> = queue
            .items
            .iter()
            .map(|r| r.learner.full_name.clone())
            .collect();
        let seen =
            names_readable(&screen, &names).unwrap_or_else(|e| panic!("{size}: {e}\n{screen}"));
        assert!(
            seen >= 3,
            "{size}: the queue's names are on screen:\n{screen}"
        );

        // A search belongs to the list it was made in.
        let first = &queue.items[0].learner.full_name;
        let query: String = first
            .split_whitespace()
            .next()
            .unwrap()
            .chars()
            .take(4)
            .collect();
        c.keys("/");
        c.keys(&query);
        c.keys("\r");
        c.wait_for(&format!("Search: {query}"));
        c.keys("\x1b");
        c.until(&format!("{size}: back on the Quiz List"), |s| {
            s.contains("● Quiz List")
        });
        c.keys("j\r");
        let exam = c.until(&format!("{size}: an exam's list"), |s| {
            s.lines()
                .any(|l| l.contains(" to review · ") && l.contains(" shown") && l.contains('/'))
        });
        assert!(
            !exam.contains(&format!("Search: {query}")),
            "{size}: the queue's search does not follow into an exam:\n{exam}"
        );

        // Revoked: one plain message, and the list is gone.
        ours.cli(&["reviewer", "revoke", "--username", &who]);
        // The whole frame, not the first bytes of it: the box and what is left to do.
        let ended = c.until(&format!("{size}: access ended, plainly"), |s| {
            s.contains("Access ended") && s.contains("q quits.")
        });
        assert!(
            !names.iter().any(|n| ended.contains(n.as_str())),
            "{size}: no list is left behind:\n{ended}"
        );
        c.quit();
    }
}
