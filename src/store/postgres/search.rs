//! Finding learners by any part of their name, username or email, whatever the case and
//! accents: each learner's folded key (`domain::text::search_key`, the same folding as on
//! SQLite) is stored with them and searched with `pg_trgm`'s GIN index.
//!
//! As on SQLite, how a list is searched depends on how many learners match: a few
//! learners' sessions are looked up and sorted (the total is exact); for more, the list is
//! read in order keeping the matching rows, and the total counts the first `few` learners'
//! sessions (a lower bound).

use super::sql::Val;
use crate::domain::text::search_key;
use crate::store::StoreError;
use crate::store::Tiers;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

pub type Search = crate::store::segments::Search<Val>;

/// `%key%` for LIKE, with LIKE's own characters taken literally.
fn pattern(key: &str) -> String {
    let mut p = String::with_capacity(key.len() + 2);
    p.push('%');
    for ch in key.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

const LEARNERS: &str = "SELECT id FROM learners WHERE search_key LIKE ?";

pub async fn plan<C: GenericClient + Sync>(
    c: &C,
    query: &str,
    tiers: Tiers,
) -> Result<Option<Search>, StoreError> {
    let key = search_key(query.trim());
    if key.is_empty() {
        return Ok(None);
    }
    let arg = Val::Text(pattern(&key));
    // The few matching learners are found once, here, and handed to the list as ids: a
    // list that joins the search itself is planned for any number of them.
    let found: Vec<i64> = c
        .query_typed(
            "SELECT id FROM learners WHERE search_key LIKE $1 LIMIT $2",
            &[(&arg, Type::TEXT), (&(tiers.few + 1), Type::INT8)],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(Some(match found.len() as i64 {
        0 => Search::Nobody,
        n if n <= tiers.few => Search::Few(" AND s.learner_id = ANY(?)".into(), Val::Ints(found)),
        _ => Search::Many {
            test: " AND l.search_key LIKE ?".into(),
            counted: (
                format!(" AND s.learner_id IN ({LEARNERS} LIMIT {})", tiers.few),
                arg.clone(),
            ),
            arg,
        },
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_characters_in_a_search_are_literal() {
        assert_eq!(super::pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
