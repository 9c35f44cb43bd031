//! PostgreSQL through sqlx's own driver: the store's [`Value`]s bound in PostgreSQL's
//! types (an instant as `timestamptz`, a date as `date`, a JSON document as `jsonb`), and
//! a row's cells read back as the values the engine reads on SQLite (an instant as its
//! microseconds, a date as `YYYY-MM-DD` text, a document and a `uuid` as text); an
//! identifier that is always a UUID is bound as `uuid` (migration 32). Written here rather
//! than through sqlx's `chrono`/`time`/`uuid` features: five small binary formats.

use std::sync::Arc;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo, PgValueFormat, Postgres};
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};

use crate::{DbRow, StoreError, Value};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00 UTC).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// PostgreSQL's built-in type OIDs (fixed in its catalog).
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const VOID: u32 = 2278;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

fn info(o: u32) -> PgTypeInfo {
    PgTypeInfo::with_oid(Oid(o))
}

/// A [`Value`] bound to a PostgreSQL parameter, in the type it stands for.
pub(crate) struct Bind<'a>(pub(crate) &'a Value);

impl sqlx::Type<Postgres> for Bind<'_> {
    fn type_info() -> PgTypeInfo {
        info(oid::TEXT)
    }
    fn compatible(_: &PgTypeInfo) -> bool {
        true
    }
}

impl<'q> sqlx::Encode<'q, Postgres> for Bind<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match self.0 {
            Value::Text(None)
            | Value::Int(None)
            | Value::Null
            | Value::Instant(None)
            | Value::Date(None)
            | Value::Json(None)
            | Value::Uuid(None) => return Ok(IsNull::Yes),
            Value::Text(Some(t)) => buf.extend_from_slice(t.as_bytes()),
            Value::Int(Some(i)) => buf.extend_from_slice(&i.to_be_bytes()),
            Value::Real(f) => buf.extend_from_slice(&f.to_be_bytes()),
            Value::Blob(b) => buf.extend_from_slice(b),
            Value::Instant(Some(us)) => {
                buf.extend_from_slice(&us.saturating_sub(PG_EPOCH_US).to_be_bytes())
            }
            Value::Date(Some(d)) => buf.extend_from_slice(&pg_days(d)?.to_be_bytes()),
            Value::Json(Some(j)) => {
                buf.push(1);
                buf.extend_from_slice(j.as_bytes());
            }
            Value::Uuid(Some(u)) => buf.extend_from_slice(&uuid_bytes(u)?),
        }
        Ok(IsNull::No)
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(info(match self.0 {
            Value::Text(_) | Value::Null => oid::TEXT,
            Value::Int(_) => oid::INT8,
            Value::Real(_) => oid::FLOAT8,
            Value::Blob(_) => oid::BYTEA,
            Value::Instant(_) => oid::TIMESTAMPTZ,
            Value::Date(_) => oid::DATE,
            Value::Json(_) => oid::JSONB,
            Value::Uuid(_) => oid::UUID,
        }))
    }
}

/// The days from 2000-01-01 to a `YYYY-MM-DD` date (PostgreSQL's binary `date`).
fn pg_days(d: &str) -> Result<i32, BoxDynError> {
    let date: jiff::civil::Date = d.parse()?;
    let epoch = jiff::civil::date(2000, 1, 1);
    Ok(epoch.until(date)?.get_days())
}

/// The date `days` after 2000-01-01, as `YYYY-MM-DD`.
fn date_of_days(days: i32) -> Result<String, StoreError> {
    jiff::civil::date(2000, 1, 1)
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .map(|d| d.to_string())
        .map_err(|e| StoreError::Decode(format!("date: {e}")))
}

/// A statement's SQL literal for `v` in the type it stands for, for the simple query
/// protocol (see [`crate::inline`]); `None` for the portable kinds, written there.
pub(crate) fn literal(v: &Value) -> Option<String> {
    Some(match v {
        Value::Instant(Some(us)) => {
            format!(
                "(CAST('epoch' AS timestamptz) + CAST({us} AS int8) * interval '1 microsecond')"
            )
        }
        Value::Instant(None) => "CAST(NULL AS timestamptz)".into(),
        Value::Date(None) => "CAST(NULL AS date)".into(),
        Value::Json(None) => "CAST(NULL AS jsonb)".into(),
        Value::Uuid(None) => "CAST(NULL AS uuid)".into(),
        _ => return None,
    })
}

/// The type a typed kind is cast to in a literal (`CAST('…' AS date)`).
pub(crate) fn literal_type(v: &Value) -> &'static str {
    match v {
        Value::Date(_) => "date",
        Value::Json(_) => "jsonb",
        Value::Uuid(_) => "uuid",
        _ => "text",
    }
}

fn bad(col: usize, what: impl std::fmt::Display) -> StoreError {
    StoreError::Decode(format!("column #{col}: {what}"))
}

/// A row of PostgreSQL, cell by cell, as the values the engine reads (see the module).
pub(crate) fn row(r: &PgRow) -> Result<DbRow, StoreError> {
    let names: Arc<[String]> = r.columns().iter().map(|c| c.name().to_string()).collect();
    let mut cells = Vec::with_capacity(names.len());
    for i in 0..names.len() {
        let raw = r.try_get_raw(i)?;
        if raw.is_null() {
            cells.push(Value::Null);
            continue;
        }
        let ty = raw.type_info().into_owned();
        let o = ty.oid().map(|o| o.0).unwrap_or(0);
        let text = raw.format() == PgValueFormat::Text;
        let bytes = raw.as_bytes().map_err(|e| bad(i, e))?;
        let as_str = || std::str::from_utf8(bytes).map_err(|e| bad(i, e));
        let be = |n: usize| -> Result<&[u8], StoreError> {
            (bytes.len() == n)
                .then_some(bytes)
                .ok_or_else(|| bad(i, format!("{} bytes, not {n}", bytes.len())))
        };
        cells.push(match o {
            oid::VOID => Value::Null,
            oid::BOOL if text => Value::Int(Some(i64::from(as_str()? == "t"))),
            oid::BOOL => Value::Int(Some(i64::from(be(1)?[0] != 0))),
            oid::INT2 | oid::INT4 | oid::INT8 | oid::OID if text => {
                Value::Int(Some(as_str()?.parse().map_err(|e| bad(i, e))?))
            }
            oid::INT2 => Value::Int(Some(i64::from(i16::from_be_bytes(
                be(2)?.try_into().map_err(|e| bad(i, e))?,
            )))),
            oid::INT4 => Value::Int(Some(i64::from(i32::from_be_bytes(
                be(4)?.try_into().map_err(|e| bad(i, e))?,
            )))),
            oid::OID => Value::Int(Some(i64::from(u32::from_be_bytes(
                be(4)?.try_into().map_err(|e| bad(i, e))?,
            )))),
            oid::INT8 => Value::Int(Some(i64::from_be_bytes(
                be(8)?.try_into().map_err(|e| bad(i, e))?,
            ))),
            oid::FLOAT4 | oid::FLOAT8 if text => {
                Value::Real(as_str()?.parse().map_err(|e| bad(i, e))?)
            }
            oid::FLOAT4 => Value::Real(f64::from(f32::from_be_bytes(
                be(4)?.try_into().map_err(|e| bad(i, e))?,
            ))),
            oid::FLOAT8 => Value::Real(f64::from_be_bytes(
                be(8)?.try_into().map_err(|e| bad(i, e))?,
            )),
            oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::JSON => {
                Value::Text(Some(as_str()?.to_string()))
            }
            oid::BYTEA if text => Value::Blob(hex_bytea(as_str()?).ok_or_else(|| bad(i, "bytea"))?),
            oid::BYTEA => Value::Blob(bytes.to_vec()),
            oid::TIMESTAMPTZ if text => {
                let t: jiff::Timestamp = as_str()?.parse().map_err(|e| bad(i, e))?;
                Value::Int(Some(t.as_microsecond()))
            }
            oid::TIMESTAMPTZ => Value::Int(Some(
                i64::from_be_bytes(be(8)?.try_into().map_err(|e| bad(i, e))?)
                    .saturating_add(PG_EPOCH_US),
            )),
            oid::DATE if text => Value::Text(Some(as_str()?.to_string())),
            oid::DATE => Value::Text(Some(date_of_days(i32::from_be_bytes(
                be(4)?.try_into().map_err(|e| bad(i, e))?,
            ))?)),
            oid::JSONB if text => Value::Text(Some(as_str()?.to_string())),
            oid::JSONB => match bytes.split_first() {
                Some((1, rest)) => Value::Text(Some(
                    std::str::from_utf8(rest)
                        .map_err(|e| bad(i, e))?
                        .to_string(),
                )),
                _ => return Err(bad(i, "a jsonb of an unknown version")),
            },
            oid::UUID if text => Value::Text(Some(as_str()?.to_string())),
            oid::UUID => Value::Text(Some(uuid_text(be(16)?))),
            _ => return Err(bad(i, format!("a value of the type {}", ty.name()))),
        });
    }
    Ok(DbRow::new(names, cells))
}

/// `\x…` text of a `bytea` (the text protocol's form).
fn hex_bytea(s: &str) -> Option<Vec<u8>> {
    let hex = s.strip_prefix("\\x")?;
    (0..hex.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(hex.get(k..k + 2)?, 16).ok())
        .collect()
}

/// The 16 bytes of a UUID given as text (PostgreSQL's binary `uuid`). A text that is not a
/// UUID is refused here, before it reaches the server: the engine parses identifiers at
/// its edge (a lookup of one that is not a UUID finds nothing without asking).
fn uuid_bytes(u: &str) -> Result<[u8; 16], BoxDynError> {
    Ok(*uuid::Uuid::parse_str(u)?.as_bytes())
}

/// A `uuid`'s 16 bytes as its hyphenated text.
fn uuid_text(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(36);
    for (k, byte) in b.iter().enumerate() {
        if matches!(k, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_2000() {
        assert_eq!(pg_days("2000-01-01").unwrap(), 0);
        assert_eq!(pg_days("1999-12-31").unwrap(), -1);
        assert_eq!(pg_days("2019-03-20").unwrap(), 7018);
        assert_eq!(date_of_days(7018).unwrap(), "2019-03-20");
        assert_eq!(date_of_days(-1).unwrap(), "1999-12-31");
        assert!(pg_days("2019-02-30").is_err());
    }

    #[test]
    fn uuids_and_bytea_read_as_text_and_bytes() {
        let b: Vec<u8> = (0u8..16).collect();
        assert_eq!(uuid_text(&b), "00010203-0405-0607-0809-0a0b0c0d0e0f");
        assert_eq!(hex_bytea("\\x00ff"), Some(vec![0, 255]));
        assert_eq!(hex_bytea("00ff"), None);
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(uuid_text(&uuid_bytes(id).unwrap()), id);
        assert!(uuid_bytes("K-1").is_err());
    }
}
