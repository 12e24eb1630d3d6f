//! Finding learners by any part of their name, username or email, whatever the case and
//! accents: an FTS5 trigram index over each learner's folded key (`domain::text::search_key`),
//! kept in step by triggers that call the same folding as the query.
//!
//! How a list is searched depends on how many learners match, which the index tells at
//! once (it stops counting at a few thousand): a few learners' sessions are looked up and sorted; a
//! term so common that it matches thousands (`edu`, a frequent surname) is answered by
//! reading the list in order and keeping the matching rows, which finds a page of them
//! within a few hundred rows.

use crate::domain::text::search_key;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, params};

pub use crate::store::tiers::Tiers;

/// Makes `search_key(text)` callable from SQL on `conn`; the triggers that keep the index
/// in step need it on every connection that writes learners.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "search_key",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(search_key(&ctx.get::<String>(0)?)),
    )
}

/// Fills the search index from every learner at once (after a bulk load, which sets its
/// triggers aside). The key is the one the triggers of migration 0010 keep.
pub fn rebuild(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM learner_search;
         INSERT INTO learner_search (rowid, key)
         SELECT id, search_key(username || ' ' || email || ' ' || full_name) FROM learners;
         INSERT INTO learner_search (learner_search) VALUES ('optimize');",
    )
}

pub type Search = crate::store::segments::Search<Value>;

/// How `query` is best answered, or `None` when there is nothing to search for. Three
/// characters or more are looked up in the trigram index; shorter ones scan the keys.
pub fn plan(c: &Connection, query: &str, tiers: Tiers) -> rusqlite::Result<Option<Search>> {
    let Tiers { few, several } = tiers;
    let key = search_key(query.trim());
    if key.is_empty() {
        return Ok(None);
    }
    let short = key.chars().count() < 3;
    let (learners, arg) = if !short {
        (
            "SELECT rowid FROM learner_search WHERE learner_search MATCH ?",
            // One phrase: the folded query as a substring, quotes doubled.
            Value::Text(format!("\"{}\"", key.replace('"', "\"\""))),
        )
    } else {
        (
            "SELECT rowid FROM learner_search WHERE instr(key, ?) > 0",
            Value::Text(key.clone()),
        )
    };
    let matching = |limit: i64| -> rusqlite::Result<i64> {
        c.prepare_cached(&format!("SELECT count(*) FROM ({learners} LIMIT ?)"))?
            .query_row(params![arg, limit], |r| r.get(0))
    };
    // Short queries scan every key to count; past `few` their rows are tested instead.
    let found = match matching(few + 1)? {
        n if n > few && short => several + 1,
        n if n > few => matching(several + 1)?,
        n => n,
    };
    let counted = (
        format!(" AND s.learner_id IN ({learners} LIMIT {few})"),
        arg.clone(),
    );
    Ok(Some(match found {
        0 => Search::Nobody,
        n if n <= few => Search::Few(format!(" AND s.learner_id IN ({learners})"), arg),
        // More learners: their rows are kept as the list is read in order; the unary +
        // keeps the planner from reading by learner.
        n if n <= several => Search::Many {
            test: format!(" AND +s.learner_id IN ({learners})"),
            arg,
            counted,
        },
        _ => Search::Many {
            test:
                " AND instr(search_key(l.username || ' ' || l.email || ' ' || l.full_name), ?) > 0"
                    .into(),
            arg: Value::Text(key),
            counted,
        },
    }))
}
