//! Finding learners by any part of their name, username or email, whatever the case and
//! accents: an FTS5 trigram index over each learner's folded key (`domain::text::search_key`),
//! kept in step by triggers that call the same folding as the query.

use crate::domain::text::search_key;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;

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

/// SQL over `s` (sessions) matching sessions whose learner matches `query`, and its argument.
/// Three characters or more are answered from the trigram index; shorter ones scan the keys.
pub fn learner_filter(query: &str) -> Option<(&'static str, Value)> {
    let key = search_key(query.trim());
    if key.is_empty() {
        return None;
    }
    Some(if key.chars().count() >= 3 {
        (
            " AND s.learner_id IN (SELECT rowid FROM learner_search WHERE learner_search MATCH ?)",
            // One phrase: the folded query as a substring, quotes doubled.
            Value::Text(format!("\"{}\"", key.replace('"', "\"\""))),
        )
    } else {
        (
            " AND s.learner_id IN (SELECT rowid FROM learner_search WHERE instr(key, ?) > 0)",
            Value::Text(key),
        )
    })
}
