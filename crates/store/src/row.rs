//! A row read by the engine's writer, the same on both backends: its column names and its
//! cells. The writer's SQLite path reads through rusqlite and its PostgreSQL path through
//! sqlx; the commands read both kinds of rows with one `try_get`, shaped like sqlx's.

use std::sync::Arc;

use sqlx::Row as _;

use crate::{StoreError, Value};

/// One row of a result.
#[derive(Debug, Clone)]
pub struct DbRow {
    names: Arc<[String]>,
    cells: Vec<Value>,
}

/// A column of a [`DbRow`]: by position or by name.
pub trait ColumnRef: Copy {
    fn position(self, names: &[String]) -> Option<usize>;
    fn describe(self) -> String;
}

impl ColumnRef for usize {
    fn position(self, names: &[String]) -> Option<usize> {
        (self < names.len()).then_some(self)
    }
    fn describe(self) -> String {
        format!("#{self}")
    }
}

impl ColumnRef for &str {
    fn position(self, names: &[String]) -> Option<usize> {
        names.iter().position(|n| n == self)
    }
    fn describe(self) -> String {
        self.to_string()
    }
}

/// A Rust value a cell can be read as.
pub trait FromCell: Sized {
    /// `None` when the cell holds another type (or NULL for a non-optional value).
    fn from_cell(v: &Value) -> Option<Self>;
}

impl FromCell for i64 {
    fn from_cell(v: &Value) -> Option<i64> {
        match v {
            Value::Int(Some(i)) => Some(*i),
            _ => None,
        }
    }
}

impl FromCell for i32 {
    fn from_cell(v: &Value) -> Option<i32> {
        i64::from_cell(v).and_then(|i| i32::try_from(i).ok())
    }
}

impl FromCell for bool {
    fn from_cell(v: &Value) -> Option<bool> {
        i64::from_cell(v).map(|i| i != 0)
    }
}

impl FromCell for f64 {
    fn from_cell(v: &Value) -> Option<f64> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(Some(i)) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromCell for String {
    fn from_cell(v: &Value) -> Option<String> {
        match v {
            Value::Text(Some(s)) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(v: &Value) -> Option<Vec<u8>> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(v: &Value) -> Option<Option<T>> {
        if v.is_null() {
            Some(None)
        } else {
            T::from_cell(v).map(Some)
        }
    }
}

impl DbRow {
    pub(crate) fn new(names: Arc<[String]>, cells: Vec<Value>) -> DbRow {
        DbRow { names, cells }
    }

    /// The cell at `col` as a `T` (the same call as sqlx's `Row::try_get`).
    pub fn try_get<T: FromCell, C: ColumnRef>(&self, col: C) -> Result<T, StoreError> {
        let i = col
            .position(&self.names)
            .ok_or_else(|| StoreError::Decode(format!("no column {}", col.describe())))?;
        let cell = &self.cells[i];
        T::from_cell(cell).ok_or_else(|| {
            StoreError::Decode(format!(
                "column {} holds {}, not a {}",
                col.describe(),
                cell.kind(),
                std::any::type_name::<T>()
            ))
        })
    }

    /// The cell at `col` as a `T`; panics when it is missing or of another type (as sqlx's
    /// `Row::get`): for tests and for columns a query itself guarantees.
    #[track_caller]
    pub fn get<T: FromCell, C: ColumnRef>(&self, col: C) -> T {
        match self.try_get(col) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// Whether the row has a column of this name.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The columns of the row.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// A row of sqlx, cell by cell, each read as the type its value has.
    pub fn from_any(r: &sqlx::any::AnyRow) -> Result<DbRow, StoreError> {
        use sqlx::any::AnyTypeInfoKind as K;
        use sqlx::{Column as _, ValueRef as _};
        let names: Arc<[String]> = r.columns().iter().map(|c| c.name().to_string()).collect();
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let raw = r.try_get_raw(i)?;
            if raw.is_null() {
                cells.push(Value::Null);
                continue;
            }
            let kind = raw.type_info().kind();
            cells.push(match kind {
                K::Null => Value::Null,
                K::Bool => Value::Int(Some(i64::from(r.try_get::<bool, _>(i)?))),
                K::SmallInt | K::Integer | K::BigInt => Value::Int(Some(r.try_get::<i64, _>(i)?)),
                K::Real => Value::Real(f64::from(r.try_get::<f32, _>(i)?)),
                K::Double => Value::Real(r.try_get::<f64, _>(i)?),
                K::Text => Value::Text(Some(r.try_get::<String, _>(i)?)),
                K::Blob => Value::Blob(r.try_get::<Vec<u8>, _>(i)?),
            });
        }
        Ok(DbRow { names, cells })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> DbRow {
        DbRow::new(
            vec!["id".to_string(), "n".to_string(), "gone".to_string()].into(),
            vec![
                Value::Text(Some("A1".into())),
                Value::Int(Some(7)),
                Value::Null,
            ],
        )
    }

    #[test]
    fn reads_by_position_and_name() {
        let r = row();
        assert_eq!(r.try_get::<String, _>(0).unwrap(), "A1");
        assert_eq!(r.try_get::<i64, _>("n").unwrap(), 7);
        assert_eq!(r.try_get::<Option<i64>, _>("gone").unwrap(), None);
        assert_eq!(
            r.try_get::<Option<String>, _>(0).unwrap().as_deref(),
            Some("A1")
        );
    }

    #[test]
    fn refuses_a_wrong_type_a_null_and_a_missing_column() {
        let r = row();
        assert!(r.try_get::<i64, _>(0).is_err());
        assert!(r.try_get::<String, _>("gone").is_err());
        assert!(r.try_get::<String, _>("nope").is_err());
        assert!(r.try_get::<String, _>(9).is_err());
    }
}
