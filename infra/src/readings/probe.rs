//! Lookups for many readings in one statement, for the group-commit path:
//! each reading's series neighbours, and which of a set of spans overlap
//! stored readings. Postgres answers through a `LATERAL` join over a
//! `VALUES` list (one plan, however many readings); SQLite, which has no
//! `LATERAL`, through a `UNION ALL` of per-reading selects.

use std::collections::HashSet;
use std::fmt::Write;

use footfall_domain::counting::{Kind, Span};
use footfall_domain::{DeviceId, Result};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::{Around, READINGS, item_from_row, selected_columns};
use crate::db::from_db;

/// Readings per statement: a chunk of readings is padded (the last one
/// repeated; answers for padding are dropped) to the smallest of these sizes
/// that holds it. The statement texts are then few and fixed, so each is
/// prepared and planned once per connection rather than once per batch size
/// (and SQLite does not keep a large compiled statement for each size),
/// while one reading on its own is not padded at all. SQLite's largest is
/// smaller: its compound select of per-reading selects grows with each one.
fn statement_sizes(backend: DbBackend) -> &'static [usize] {
    match backend {
        DbBackend::Postgres => &[1, 8, 64],
        _ => &[1, 4, 16],
    }
}

/// `keys` in chunks of at most the largest statement size, each with its
/// offset in `keys` and the size it is padded to.
fn chunks<T>(keys: &[T], backend: DbBackend) -> impl Iterator<Item = (usize, &[T], usize)> {
    let sizes = statement_sizes(backend);
    let largest = sizes.last().copied().unwrap_or(1);
    keys.chunks(largest).enumerate().map(move |(n, chunk)| {
        let size = sizes.iter().copied().find(|s| *s >= chunk.len()).unwrap_or(largest);
        (n * largest, chunk, size)
    })
}

/// The keys of one statement: `chunk`, padded to `size` with its last key;
/// each with the index its answer belongs to (`-1`: padding).
fn padded<T>(chunk: &[T], offset: usize, size: usize) -> impl Iterator<Item = (i64, &T)> {
    let last = chunk.len().saturating_sub(1);
    (0..size.max(chunk.len())).filter_map(move |k| {
        let key = chunk.get(k.min(last))?;
        let index = if k < chunk.len() {
            i64::try_from(offset + k).unwrap_or(-1)
        } else {
            -1
        };
        Some((index, key))
    })
}

/// For each `(device, span)` of a live reading: the stored live reading with
/// that span, and the ones just before and after it in its series. One
/// result per key, in order.
pub(super) async fn around(conn: &impl ConnectionTrait, keys: &[(DeviceId, Span)]) -> Result<Vec<Around>> {
    let mut found: Vec<Around> = keys.iter().map(|_| Around::default()).collect();
    let backend = conn.get_database_backend();
    let columns = selected_columns().join(", ");
    let live = Kind::Live.code();
    // Same span or later, first two by end; earlier, the last one.
    let same_or_after = format!(
        "SELECT CAST(0 AS BIGINT) AS side, {columns} FROM {READINGS} \
         WHERE device_id = {{dev}} AND kind = {live} AND start_time = {{st}} AND end_time >= {{en}} \
         ORDER BY end_time ASC LIMIT 2"
    );
    let before = format!(
        "SELECT CAST(1 AS BIGINT) AS side, {columns} FROM {READINGS} \
         WHERE device_id = {{dev}} AND kind = {live} AND start_time = {{st}} AND end_time < {{en}} \
         ORDER BY end_time DESC LIMIT 1"
    );
    for (offset, chunk, size) in chunks(keys, backend) {
        let mut values: Vec<Value> = Vec::with_capacity(size * 6);
        let sql = match backend {
            DbBackend::Postgres => {
                let mut rows = String::new();
                for (index, (device, span)) in padded(chunk, offset, size) {
                    let n = values.len();
                    let sep = if n == 0 { "" } else { ", " };
                    let _ = write!(
                        rows,
                        "{sep}(${}::uuid, ${}::bigint, ${}::bigint, CAST({index} AS BIGINT))",
                        n + 1,
                        n + 2,
                        n + 3,
                    );
                    values.extend([device.as_uuid().into(), span.from.into(), span.to.into()]);
                }
                let lateral = |q: &str| {
                    q.replace("{dev}", "q.dev")
                        .replace("{st}", "q.st")
                        .replace("{en}", "q.en")
                };
                format!(
                    "SELECT q.i AS probe, r.* FROM (VALUES {rows}) AS q(dev, st, en, i) \
                     CROSS JOIN LATERAL (({}) UNION ALL ({})) AS r",
                    lateral(&same_or_after),
                    lateral(&before)
                )
            }
            _ => {
                let bound = |q: &str| q.replace("{dev}", "?").replace("{st}", "?").replace("{en}", "?");
                let mut parts = Vec::with_capacity(chunk.len() * 2);
                for (index, (device, span)) in padded(chunk, offset, size) {
                    for select in [&same_or_after, &before] {
                        parts.push(format!(
                            "SELECT CAST({index} AS BIGINT) AS probe, * FROM ({})",
                            bound(select)
                        ));
                        values.extend([device.as_uuid().into(), span.from.into(), span.to.into()]);
                    }
                }
                parts.join(" UNION ALL ")
            }
        };
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(from_db)?;
        for row in &rows {
            let probe: i64 = row.try_get("", "probe").map_err(from_db)?;
            if probe < 0 {
                continue;
            }
            let side: i64 = row.try_get("", "side").map_err(from_db)?;
            let slot = usize::try_from(probe)
                .ok()
                .and_then(|i| found.get_mut(i).zip(keys.get(i)))
                .ok_or_else(|| crate::db::corrupt("probe index", probe))?;
            let (around, (_, span)) = slot;
            let item = item_from_row(row)?;
            let end = item.entry.reading.span.to;
            if side == 1 {
                around.before = Some(item);
            } else if end == span.to {
                around.same = Some(item);
            } else if around.after.as_ref().is_none_or(|a| end < a.entry.reading.span.to) {
                around.after = Some(item);
            }
        }
    }
    Ok(found)
}

/// Which of `ranges` — `(device, lo, end, except)` — hold a stored reading of
/// their device, other than those in `except`, whose increment span holds
/// a second of `[lo, end)` (the condition of `overlapping_condition`).
/// Returns the indices into `ranges`.
pub(super) async fn overlapping(
    conn: &impl ConnectionTrait,
    ranges: &[(DeviceId, i64, i64, Vec<i64>)],
) -> Result<HashSet<usize>> {
    let backend = conn.get_database_backend();
    let mut hits = HashSet::new();
    // A probe leaves out at most one stored reading (the next one of the
    // series); more is left to the one-by-one path.
    for (offset, chunk, size) in chunks(ranges, backend) {
        let mut values: Vec<Value> = Vec::with_capacity(size * 4);
        let mut rows = String::new();
        for (index, (device, lo, end, except)) in padded(chunk, offset, size) {
            let sep = if values.is_empty() { "" } else { ", " };
            let row = match backend {
                DbBackend::Postgres => {
                    let n = values.len();
                    format!(
                        "(${}::uuid, ${}::bigint, ${}::bigint, ${}::bigint, CAST({index} AS BIGINT))",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                    )
                }
                _ => format!("(?, ?, ?, ?, CAST({index} AS BIGINT))"),
            };
            rows.push_str(sep);
            rows.push_str(&row);
            // Ids are positive; -1 leaves nothing out.
            let except = match except.as_slice() {
                [] => -1,
                [one] => *one,
                _ => {
                    return Err(footfall_domain::Error::internal(
                        "overlap probe leaves out one reading at most",
                    ));
                }
            };
            values.extend([device.as_uuid().into(), (*lo).into(), (*end).into(), except.into()]);
        }
        let overlaps = format!(
            "SELECT 1 FROM {READINGS} r WHERE r.device_id = q.dev \
             AND r.inc_to >= q.lo AND r.inc_from < q.en AND (r.inc_to > q.lo OR r.inc_from = r.inc_to) \
             AND r.id <> q.ex"
        );
        let sql = match backend {
            // A lateral join with LIMIT 1 keeps Postgres on the per-device
            // index; as a semi-join it may hash the whole table instead.
            DbBackend::Postgres => format!(
                "SELECT q.i AS probe FROM (VALUES {rows}) AS q(dev, lo, en, ex, i) \
                 CROSS JOIN LATERAL ({overlaps} LIMIT 1) AS hit"
            ),
            _ => format!(
                "WITH q(dev, lo, en, ex, i) AS (VALUES {rows}) SELECT q.i AS probe FROM q WHERE EXISTS ({overlaps})"
            ),
        };
        let found = conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(from_db)?;
        for row in &found {
            let probe: i64 = row.try_get("", "probe").map_err(from_db)?;
            if probe < 0 {
                continue;
            }
            hits.insert(usize::try_from(probe).map_err(|_| crate::db::corrupt("probe index", probe))?);
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_padded_to_the_smallest_size_that_holds_them() {
        /// (offset, keys, padded size) of each statement.
        type Statements = Vec<(usize, usize, usize)>;
        let keys: Vec<u32> = (0..70).collect();
        let cases: [(DbBackend, usize, Statements); 6] = [
            (DbBackend::Postgres, 0, vec![]),
            (DbBackend::Postgres, 1, vec![(0, 1, 1)]),
            (DbBackend::Postgres, 5, vec![(0, 5, 8)]),
            (DbBackend::Postgres, 70, vec![(0, 64, 64), (64, 6, 8)]),
            (DbBackend::Sqlite, 2, vec![(0, 2, 4)]),
            (DbBackend::Sqlite, 17, vec![(0, 16, 16), (16, 1, 1)]),
        ];
        for (backend, n, expected) in cases {
            let got: Statements = chunks(&keys[..n], backend)
                .map(|(offset, chunk, size)| (offset, chunk.len(), size))
                .collect();
            assert_eq!(got, expected, "{backend:?}, {n} keys");
        }
    }

    #[test]
    fn padding_repeats_the_last_key_and_is_marked() {
        let keys = [10, 11, 12];
        let got: Vec<(i64, i32)> = padded(&keys, 64, 4).map(|(i, k)| (i, *k)).collect();
        assert_eq!(got, vec![(64, 10), (65, 11), (66, 12), (-1, 12)]);
        assert_eq!(padded::<i32>(&[], 0, 4).count(), 0);
    }
}
