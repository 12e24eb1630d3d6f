//! Finding learners by any part of their name, username or email, whatever the case and
//! accents: each learner's folded key (`domain::text::search_key`, the same folding as on
//! SQLite) is stored with them and searched with `pg_trgm`'s GIN index.
//!
//! As on SQLite, how a list is searched depends on how many learners match: a few
//! learners' sessions are looked up and sorted (the total is exact); for more, the list is
//! read in order keeping the matching rows, and the total counts the first `few` learners'
//! sessions (a lower bound). Up to `several`, the rows kept are those of the learners the
//! trigram index found; past it, each row's learner is tested. How many match is judged on
//! a sample first, since the trigram index cannot stop early.

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

/// Learners read (in id order, past the index) to judge how common a term is.
const SAMPLE: i64 = 2_000;

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
    // How common the term is, judged on a sample: for a term most learners share (`edu`)
    // the trigram index gathers every match, a quarter of a million, before it hands back
    // the first, where reading learners in order finds `few` of them at once.
    let sample = c
        .query_typed_one(
            "SELECT (SELECT count(*) FROM (SELECT search_key FROM learners ORDER BY id LIMIT $2) l
                     WHERE search_key LIKE $1),
                    (SELECT GREATEST(reltuples, 0)::bigint FROM pg_class
                     WHERE oid = 'learners'::regclass)",
            &[(&arg, Type::TEXT), (&SAMPLE, Type::INT8)],
        )
        .await?;
    let (sampled, learners): (i64, i64) = (sample.try_get(0)?, sample.try_get(1)?);
    // Up to `several` matches the index still answers at once: it marks them all, and the
    // first `few` are read from the table (3 ms for a surname six thousand learners
    // share, where reading learners in order until `few` match took 30).
    let common = sampled * learners.max(SAMPLE) / SAMPLE > tiers.several;
    // The matching learners are found once, here, and handed to the list as ids: a list
    // that joins the search itself is planned for any number of them.
    let (ids, up_to) = if common {
        // `|| ''` keeps the index out: the learners are read in order, `few` are enough.
        (
            "SELECT id FROM learners WHERE search_key || '' LIKE $1 LIMIT $2",
            tiers.few,
        )
    } else {
        (
            "SELECT id FROM learners WHERE search_key LIKE $1 LIMIT $2",
            tiers.several,
        )
    };
    let mut found: Vec<i64> = c
        .query_typed(ids, &[(&arg, Type::TEXT), (&(up_to + 1), Type::INT8)])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let first_few = |found: &[i64]| found[..found.len().min(tiers.few as usize)].to_vec();
    Ok(Some(match found.len() as i64 {
        0 => Search::Nobody,
        n if n <= tiers.few => Search::Few(" AND s.learner_id = ANY(?)".into(), Val::Ints(found)),
        n if n <= tiers.several && !common => Search::Many {
            // Every match goes into a hash table once (a hashed subplan: `IS TRUE` keeps
            // it from becoming a join the planner would sort), and each row read along
            // the index of the order is looked up in it, its learner unread: 3 ms for a
            // surname six thousand learners share, where reading each row's learner to
            // test the term took 14.
            test: " AND (s.learner_id IN (SELECT unnest(?::bigint[]))) IS TRUE".into(),
            counted: (
                " AND s.learner_id = ANY(?)".into(),
                Val::Ints(first_few(&found)),
            ),
            arg: Val::Ints(found),
        },
        _ => {
            found = first_few(&found);
            Search::Many {
                // Tested on each row as the list is read in order. `strpos`, not LIKE:
                // the planner takes a LIKE for rare and would sort every row the exam
                // holds rather than read the index of the order until the page is full.
                test: " AND strpos(l.search_key, ?) > 0".into(),
                counted: (" AND s.learner_id = ANY(?)".into(), Val::Ints(found)),
                arg: Val::Text(key),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_characters_in_a_search_are_literal() {
        assert_eq!(super::pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
