//! A result row of either backend, read by column number, so a row's mapping to a domain
//! value is written once (`store::rows`) instead of once per driver.

use super::StoreError;

/// A column value both drivers can read.
pub trait Cell: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}

impl<T> Cell for T where T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}

pub trait Cells {
    fn cell<T: Cell>(&self, i: usize) -> Result<T, StoreError>;
}

impl Cells for rusqlite::Row<'_> {
    fn cell<T: Cell>(&self, i: usize) -> Result<T, StoreError> {
        Ok(self.get(i)?)
    }
}

impl Cells for tokio_postgres::Row {
    fn cell<T: Cell>(&self, i: usize) -> Result<T, StoreError> {
        Ok(self.try_get(i)?)
    }
}
