//! Count readings in the store: the incremental form of the counting rules
//! of `footfall_domain::counting`.
//!
//! A live reading is placed in its series by two indexed lookups (the
//! readings just before and after it); only it and the next one change
//! increment. When history overlaps what changed, the whole window of
//! overlapping readings is loaded and settled again. Every change to what a
//! reading counts moves the 15-minute rollups by the difference, in the same
//! transaction.

use std::cmp::{max, min};
use std::collections::HashMap;

use footfall_domain::buckets::day_start;
use footfall_domain::counting::{Counts, Entry, Increment, Kind, Reading, Span, Tally, settle, settle_all};
use footfall_domain::ingest::ReportedReading;
use footfall_domain::{DeviceId, Result, SiteId, TenantId, Timezone};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};
use uuid::Uuid;

use crate::db::{Db, corrupt, from_db};

mod probe;

pub(crate) const READINGS: &str = "count_readings";
pub(crate) const ROLLUP: &str = "rollup_15m";
pub(crate) const ROLLUP_DAY: &str = "rollup_day";
pub(crate) const ROLLUP_SITE_DAY: &str = "rollup_site_day";

/// The counters, in `Tally` order; stored as `<prefix><name>`.
pub const COUNTERS: [&str; 12] = [
    "in",
    "out",
    "passby",
    "turnback",
    "in_adult",
    "out_adult",
    "passby_adult",
    "turnback_adult",
    "in_child",
    "out_child",
    "passby_child",
    "turnback_child",
];

pub(crate) fn tally_values(t: &Tally) -> [u64; 12] {
    let [a, b, c, d] = t.all.as_array();
    let [e, f, g, h] = t.adult.as_array();
    let [i, j, k, l] = t.child.as_array();
    [a, b, c, d, e, f, g, h, i, j, k, l]
}

fn tally_from_values(v: [u64; 12]) -> Tally {
    Tally {
        all: Counts::new(v[0], v[1], v[2], v[3]),
        adult: Counts::new(v[4], v[5], v[6], v[7]),
        child: Counts::new(v[8], v[9], v[10], v[11]),
    }
}

/// Reads the twelve `<prefix>*` counters of a row.
pub(crate) fn tally_from_row(row: &QueryResult, prefix: &str) -> Result<Tally> {
    let mut v = [0u64; 12];
    for (slot, name) in v.iter_mut().zip(COUNTERS) {
        let raw: i64 = row.try_get("", &format!("{prefix}{name}")).map_err(from_db)?;
        *slot = u64::try_from(raw).map_err(|_| corrupt("counter", raw))?;
    }
    Ok(tally_from_values(v))
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Whose readings these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub tenant: TenantId,
    pub site: SiteId,
    pub device: DeviceId,
}

/// A reading in a window: its entry now, and as stored (`None`: not stored yet).
#[derive(Debug, Clone)]
struct Item {
    id: Option<i64>,
    /// The site the reading was made for.
    site: SiteId,
    entry: Entry,
    stored: Option<Entry>,
    avg_stay_ms: Option<u64>,
    /// The stay average the stored entry was rolled up with.
    stored_avg_stay_ms: Option<u64>,
    total: Option<u64>,
    has_split: bool,
    device_time: Option<i64>,
}

/// What recording one reading did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A new reading was stored.
    Stored,
    /// The same reading was stored already; nothing changed.
    Repeat,
}

/// A change to one rollup row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delta {
    pub counts: [i64; 12],
    pub stay_ms_sum: i64,
    pub stay_people: i64,
}

impl Delta {
    fn is_zero(&self) -> bool {
        *self == Delta::default()
    }

    fn add(&mut self, other: &Delta) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a = a.saturating_add(b);
        }
        self.stay_ms_sum = self.stay_ms_sum.saturating_add(other.stay_ms_sum);
        self.stay_people = self.stay_people.saturating_add(other.stay_people);
    }

    /// What an entry adds to its bucket (`sign` -1 to take it back).
    pub(crate) fn of(entry: &Entry, avg_stay_ms: Option<u64>, sign: i64) -> Delta {
        let mut d = Delta::default();
        for (slot, v) in d.counts.iter_mut().zip(tally_values(&entry.counted)) {
            *slot = sign.saturating_mul(to_i64(v));
        }
        if let Some(ms) = avg_stay_ms {
            let people = to_i64(entry.counted.all.people());
            d.stay_people = sign.saturating_mul(people);
            d.stay_ms_sum = sign.saturating_mul(people.saturating_mul(to_i64(ms)));
        }
        d
    }
}

/// Rollup rows keyed by device, the site the readings were made for, and
/// bucket (or day).
pub(crate) type RollupRows = HashMap<(Uuid, Uuid, i64), (Uuid, Delta)>;

/// Rollup changes gathered while recording, written in one go.
#[derive(Default)]
pub(crate) struct RollupDeltas {
    /// (device, site, 15-minute bucket) → (tenant, change).
    quarters: RollupRows,
}

impl RollupDeltas {
    fn add(
        &mut self,
        tenant: TenantId,
        device: DeviceId,
        site: SiteId,
        entry: &Entry,
        avg_stay_ms: Option<u64>,
        sign: i64,
    ) {
        if entry.counted.is_zero() {
            return;
        }
        let key = (device.as_uuid(), site.as_uuid(), entry.bucket());
        let row = self.quarters.entry(key).or_insert((tenant.as_uuid(), Delta::default()));
        row.1.add(&Delta::of(entry, avg_stay_ms, sign));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.quarters.is_empty()
    }

    /// Adds the deltas to the 15-minute and daily rollup rows (days in each
    /// site's timezone), creating missing rows.
    pub(crate) async fn flush(self, conn: &impl ConnectionTrait) -> Result<()> {
        let days = days_of(conn, &self.quarters).await?;
        upsert_rollups(conn, ROLLUP, "bucket", &self.quarters, Mode::Add).await?;
        upsert_rollups(conn, ROLLUP_DAY, "day", &days, Mode::Add).await?;
        upsert_site_days(conn, &site_days(&days), Mode::Add).await
    }
}

/// Groups 15-minute rows into local days of their sites' timezones.
pub(crate) async fn days_of(conn: &impl ConnectionTrait, quarters: &RollupRows) -> Result<RollupRows> {
    let mut sites: Vec<Uuid> = quarters.keys().map(|(_, s, _)| *s).collect();
    sites.sort_unstable();
    sites.dedup();
    let zones = site_zones(conn, &sites).await?;
    let mut days = RollupRows::new();
    for ((device, site, bucket), (tenant, delta)) in quarters {
        let Some(zone) = zones.get(site) else { continue };
        let day = day_start(*zone, *bucket);
        days.entry((*device, *site, day))
            .or_insert((*tenant, Delta::default()))
            .1
            .add(delta);
    }
    Ok(days)
}

/// Site-level daily rows: (site, day) → (tenant, change).
pub(crate) type SiteDays = HashMap<(Uuid, i64), (Uuid, Delta)>;

/// Sums per-device daily rows over each site's devices.
pub(crate) fn site_days(days: &RollupRows) -> SiteDays {
    let mut out = SiteDays::new();
    for ((_, site, day), (tenant, delta)) in days {
        out.entry((*site, *day))
            .or_insert((*tenant, Delta::default()))
            .1
            .add(delta);
    }
    out
}

pub(crate) async fn upsert_site_days(conn: &impl ConnectionTrait, rows: &SiteDays, mode: Mode) -> Result<()> {
    // In key order, so concurrent writers lock shared rows in the same order.
    let mut rows: Vec<_> = rows.iter().filter(|(_, (_, d))| !d.is_zero()).collect();
    rows.sort_by_key(|(k, _)| **k);
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut columns = vec!["tenant_id", "site_id", "day", "stay_ms_sum", "stay_people"];
        columns.extend(COUNTERS);
        let mut stmt = Query::insert();
        stmt.into_table(ROLLUP_SITE_DAY).columns(columns);
        for ((site, day), (tenant, d)) in chunk {
            let mut values: Vec<Expr> = vec![
                (*tenant).into(),
                (*site).into(),
                (*day).into(),
                d.stay_ms_sum.into(),
                d.stay_people.into(),
            ];
            values.extend(d.counts.iter().map(|c| Expr::from(*c)));
            stmt.values(values).map_err(|e| corrupt("rollup statement", e))?;
        }
        if mode == Mode::Add {
            let mut upsert = OnConflict::columns(["tenant_id", "site_id", "day"]);
            for col in COUNTERS.iter().copied().chain(["stay_ms_sum", "stay_people"]) {
                upsert.value(
                    col,
                    Expr::col((ROLLUP_SITE_DAY, col)).add(Expr::cust(format!("excluded.\"{col}\""))),
                );
            }
            stmt.on_conflict(upsert);
        }
        conn.execute(&stmt).await.map_err(from_db)?;
    }
    Ok(())
}

/// The stored daily rows of `device`, signed: what to take back from the
/// site-level rows before the device's rows are replaced.
async fn stored_days(conn: &impl ConnectionTrait, device: DeviceId, sign: i64) -> Result<RollupRows> {
    let mut q = Query::select();
    q.columns(["device_id", "site_id", "day", "tenant_id", "stay_ms_sum", "stay_people"])
        .columns(COUNTERS)
        .from(ROLLUP_DAY)
        .and_where(Expr::col("device_id").eq(device.as_uuid()));
    let mut rows = RollupRows::new();
    for row in conn.query_all(&q).await.map_err(from_db)? {
        let d = delta_from_row(&row, sign)?;
        let key = (
            row.try_get::<Uuid>("", "device_id").map_err(from_db)?,
            row.try_get::<Uuid>("", "site_id").map_err(from_db)?,
            row.try_get::<i64>("", "day").map_err(from_db)?,
        );
        rows.insert(key, (row.try_get("", "tenant_id").map_err(from_db)?, d));
    }
    Ok(rows)
}

fn delta_from_row(row: &QueryResult, sign: i64) -> Result<Delta> {
    let mut d = Delta::default();
    for (slot, name) in d.counts.iter_mut().zip(COUNTERS) {
        *slot = sign * row.try_get::<i64>("", name).map_err(from_db)?;
    }
    d.stay_ms_sum = sign * row.try_get::<i64>("", "stay_ms_sum").map_err(from_db)?;
    d.stay_people = sign * row.try_get::<i64>("", "stay_people").map_err(from_db)?;
    Ok(d)
}

/// The timezones of `sites`.
pub(crate) async fn site_zones(conn: &impl ConnectionTrait, sites: &[Uuid]) -> Result<HashMap<Uuid, Timezone>> {
    if sites.is_empty() {
        return Ok(HashMap::new());
    }
    let q = Query::select()
        .columns(["id", "timezone"])
        .from("sites")
        .and_where(Expr::col("id").is_in(sites.iter().copied()))
        .to_owned();
    conn.query_all(&q)
        .await
        .map_err(from_db)?
        .iter()
        .map(|row| {
            let id: Uuid = row.try_get("", "id").map_err(from_db)?;
            let name: String = row.try_get("", "timezone").map_err(from_db)?;
            Ok((id, Timezone::parse(&name).map_err(|e| corrupt("timezone", e))?))
        })
        .collect()
}

/// How rollup rows are written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Add to what is there.
    Add,
    /// Insert fresh rows (the table part was emptied first).
    Insert,
}

/// Most rows in one statement (18 values each; Postgres takes 65535).
const ROWS_PER_STATEMENT: usize = 1000;

pub(crate) async fn upsert_rollups(
    conn: &impl ConnectionTrait,
    table: &'static str,
    key: &'static str,
    rows: &RollupRows,
    mode: Mode,
) -> Result<()> {
    // In key order, so concurrent writers lock shared rows in the same order.
    let mut rows: Vec<_> = rows.iter().filter(|(_, (_, d))| !d.is_zero()).collect();
    rows.sort_by_key(|(k, _)| **k);
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut columns = vec!["device_id", "site_id", key, "tenant_id", "stay_ms_sum", "stay_people"];
        columns.extend(COUNTERS);
        let mut stmt = Query::insert();
        stmt.into_table(table).columns(columns);
        for ((device, site, at), (tenant, d)) in chunk {
            let mut values: Vec<Expr> = vec![
                (*device).into(),
                (*site).into(),
                (*at).into(),
                (*tenant).into(),
                d.stay_ms_sum.into(),
                d.stay_people.into(),
            ];
            values.extend(d.counts.iter().map(|c| Expr::from(*c)));
            stmt.values(values).map_err(|e| corrupt("rollup statement", e))?;
        }
        if mode == Mode::Add {
            let mut upsert = OnConflict::columns(["device_id", "site_id", key]);
            for col in COUNTERS.iter().copied().chain(["stay_ms_sum", "stay_people"]) {
                upsert.value(
                    col,
                    Expr::col((table, col)).add(Expr::cust(format!("excluded.\"{col}\""))),
                );
            }
            stmt.on_conflict(upsert);
        }
        conn.execute(&stmt).await.map_err(from_db)?;
    }
    Ok(())
}

/// One reading to record, and the upload it came in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming<'a> {
    pub owner: Owner,
    pub reported: &'a ReportedReading,
    pub device_time: Option<i64>,
    pub upload_id: Option<i64>,
    pub received_at: i64,
}

impl Incoming<'_> {
    /// The reading as an item of its series with `entry`, not stored yet.
    fn item(&self, entry: Entry) -> Item {
        Item {
            id: None,
            site: self.owner.site,
            entry,
            stored: None,
            avg_stay_ms: self.reported.avg_stay_ms,
            stored_avg_stay_ms: None,
            total: self.reported.total,
            has_split: self.reported.has_split,
            device_time: self.device_time,
        }
    }
}

/// What is stored around a live reading in its series (readings of its
/// device with its start): the reading itself, the one just before it and
/// the one just after it.
#[derive(Debug, Default)]
struct Around {
    same: Option<Item>,
    before: Option<Item>,
    after: Option<Item>,
}

/// The readings a new live reading changes — itself, and the next one of
/// its series, whose increment now starts at it — and the span the next
/// one counted over until now. `None`: the reading is stored already.
fn live_changes(incoming: &Incoming<'_>, around: Around) -> Option<(Vec<Item>, Vec<Span>)> {
    if around.same.is_some() {
        return None;
    }
    let reading = incoming.reported.reading;
    let prev = around.before.as_ref().map(|p| &p.entry.reading);
    let mut changed = vec![incoming.item(Entry::live(prev, reading))];
    let mut also = Vec::new();
    if let Some(mut next) = around.after {
        also.push(next.entry.span());
        next.entry = Entry::live(Some(&reading), next.entry.reading);
        changed.push(next);
    }
    Some((changed, also))
}

/// Records one reading, adjusting the rollups through `deltas`. Must run
/// inside the transaction that holds the device's lock.
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    incoming: Incoming<'_>,
    deltas: &mut RollupDeltas,
) -> Result<Applied> {
    let device = incoming.owner.device;
    let reading = incoming.reported.reading;
    let (changed, also) = match reading.kind {
        Kind::Live => {
            let around = probe::around(conn, &[(device, reading.span)])
                .await?
                .pop()
                .unwrap_or_default();
            match live_changes(&incoming, around) {
                Some(changes) => changes,
                None => return Ok(Applied::Repeat),
            }
        }
        Kind::History => {
            let item = match find(conn, device, reading.kind, reading.span).await? {
                Some(s) if s.entry.reading == reading => return Ok(Applied::Repeat),
                // The device's record changed: the latest one is authoritative.
                Some(s) => Item {
                    id: s.id,
                    stored: s.stored,
                    stored_avg_stay_ms: s.avg_stay_ms,
                    ..incoming.item(Entry::history(reading))
                },
                None => incoming.item(Entry::history(reading)),
            };
            (vec![item], Vec::new())
        }
    };
    let window = load_window(conn, device, &changed, &also).await?;
    let mut writes = RowWrites::default();
    settle_window(&incoming, window, deltas, &mut writes);
    writes.flush(conn).await?;
    Ok(Applied::Stored)
}

/// Records readings of distinct devices — each the only reading of its
/// device in the batch, so none can change what another counts — with a few
/// statements for all of them: one finds every reading's series neighbours,
/// one which of them overlap other stored readings, one inserts. Readings
/// that need more (history, overlaps) take the path of [`record`]. Must run
/// inside the transaction that holds the devices' locks. One result per
/// reading, in order.
pub(crate) async fn record_lone(
    conn: &impl ConnectionTrait,
    readings: &[Incoming<'_>],
    deltas: &mut RollupDeltas,
) -> Result<Vec<Applied>> {
    let mut applied = vec![Applied::Stored; readings.len()];
    let live: Vec<usize> = (0..readings.len())
        .filter(|i| readings[*i].reported.reading.kind == Kind::Live)
        .collect();
    for (i, incoming) in readings.iter().enumerate() {
        if incoming.reported.reading.kind != Kind::Live {
            applied[i] = record(conn, *incoming, deltas).await?;
        }
    }
    let keys: Vec<(DeviceId, Span)> = live
        .iter()
        .map(|i| (readings[*i].owner.device, readings[*i].reported.reading.span))
        .collect();
    let mut pending = Vec::with_capacity(live.len());
    for (i, around) in live.into_iter().zip(probe::around(conn, &keys).await?) {
        match live_changes(&readings[i], around) {
            Some((changed, also)) => pending.push((i, changed, also)),
            None => applied[i] = Applied::Repeat,
        }
    }
    let ranges: Vec<(DeviceId, i64, i64, Vec<i64>)> = pending
        .iter()
        .map(|(i, changed, also)| {
            let (lo, end) = bounds(changed, also);
            (readings[*i].owner.device, lo, end, changed_ids(changed))
        })
        .collect();
    let overlapping = probe::overlapping(conn, &ranges).await?;
    let mut writes = RowWrites::default();
    for (k, (i, changed, _)) in pending.into_iter().enumerate() {
        let window = if overlapping.contains(&k) {
            let (_, lo, end, _) = ranges[k];
            load_related(conn, readings[i].owner.device, &changed, lo, end).await?
        } else {
            changed
        };
        settle_window(&readings[i], window, deltas, &mut writes);
    }
    writes.flush(conn).await?;
    Ok(applied)
}

/// Settles `window` by the rules, moves the rollups by what changed and
/// queues the rows to write.
fn settle_window(incoming: &Incoming<'_>, mut window: Vec<Item>, deltas: &mut RollupDeltas, writes: &mut RowWrites) {
    let owner = incoming.owner;
    let mut entries: Vec<Entry> = window.iter().map(|i| i.entry).collect();
    settle(&mut entries);
    for (item, settled) in window.iter_mut().zip(entries) {
        item.entry.counted = settled.counted;
    }
    for item in window {
        if item.stored.as_ref() == Some(&item.entry) && item.stored_avg_stay_ms == item.avg_stay_ms {
            continue;
        }
        if let Some(old) = &item.stored {
            deltas.add(owner.tenant, owner.device, item.site, old, item.stored_avg_stay_ms, -1);
        }
        deltas.add(owner.tenant, owner.device, item.site, &item.entry, item.avg_stay_ms, 1);
        match item.id {
            Some(_) => writes.updates.push(item),
            None => writes.inserts.push(NewRow {
                owner,
                item,
                upload_id: incoming.upload_id,
                received_at: incoming.received_at,
            }),
        }
    }
}

/// A reading to insert.
struct NewRow {
    owner: Owner,
    item: Item,
    upload_id: Option<i64>,
    received_at: i64,
}

/// Reading rows to write, gathered so new ones go in multi-row inserts.
#[derive(Default)]
struct RowWrites {
    inserts: Vec<NewRow>,
    /// Stored readings whose increment or count changed.
    updates: Vec<Item>,
}

/// Reading rows per insert statement (50 values each; SQLite takes 32766).
const READINGS_PER_STATEMENT: usize = 500;

impl RowWrites {
    async fn flush(self, conn: &impl ConnectionTrait) -> Result<()> {
        for chunk in self.inserts.chunks(READINGS_PER_STATEMENT) {
            let mut stmt = Query::insert();
            stmt.into_table(READINGS).columns(insert_columns());
            for row in chunk {
                stmt.values(row_values(row))
                    .map_err(|e| corrupt("reading statement", e))?;
            }
            conn.execute(&stmt).await.map_err(from_db)?;
        }
        for item in &self.updates {
            update(conn, item).await?;
        }
        Ok(())
    }
}

const SELECTED: [&str; 11] = [
    "id",
    "site_id",
    "kind",
    "start_time",
    "end_time",
    "inc_from",
    "inc_to",
    "avg_stay_ms",
    "total",
    "has_split",
    "device_time",
];

/// The columns an [`Item`] is read from.
fn selected_columns() -> Vec<String> {
    let mut columns: Vec<String> = SELECTED.map(String::from).to_vec();
    for prefix in ["r_", "i_", "n_"] {
        columns.extend(COUNTERS.map(|c| format!("{prefix}{c}")));
    }
    columns
}

fn select_readings(device: DeviceId) -> SelectStatement {
    let mut q = Query::select();
    q.columns(selected_columns()).from(READINGS);
    q.and_where(Expr::col("device_id").eq(device.as_uuid()));
    q
}

fn item_from_row(row: &QueryResult) -> Result<Item> {
    let get = |col: &str| row.try_get::<i64>("", col).map_err(from_db);
    let opt = |col: &str| row.try_get::<Option<i64>>("", col).map_err(from_db);
    let kind_code: i16 = row.try_get("", "kind").map_err(from_db)?;
    let kind = Kind::from_code(kind_code).ok_or_else(|| corrupt("reading kind", kind_code))?;
    let entry = Entry {
        reading: Reading {
            kind,
            span: Span::new(get("start_time")?, get("end_time")?),
            tally: tally_from_row(row, "r_")?,
        },
        increment: Increment {
            tally: tally_from_row(row, "i_")?,
            span: Span::new(get("inc_from")?, get("inc_to")?),
        },
        counted: tally_from_row(row, "n_")?,
    };
    let unsigned = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    let avg_stay_ms = unsigned(opt("avg_stay_ms")?);
    Ok(Item {
        id: Some(get("id")?),
        site: SiteId::from_uuid(row.try_get::<Uuid>("", "site_id").map_err(from_db)?),
        entry,
        stored: Some(entry),
        avg_stay_ms,
        stored_avg_stay_ms: avg_stay_ms,
        total: unsigned(opt("total")?),
        has_split: row.try_get("", "has_split").map_err(from_db)?,
        device_time: opt("device_time")?,
    })
}

async fn find(conn: &impl ConnectionTrait, device: DeviceId, kind: Kind, span: Span) -> Result<Option<Item>> {
    let mut q = select_readings(device);
    q.and_where(Expr::col("kind").eq(kind.code()))
        .and_where(Expr::col("start_time").eq(span.from))
        .and_where(Expr::col("end_time").eq(span.to));
    conn.query_one(&q)
        .await
        .map_err(from_db)?
        .as_ref()
        .map(item_from_row)
        .transpose()
}

/// The condition "the increment span holds a second of `[lo, end)`" (see
/// `Span`: an instant holds its one second).
fn overlapping_condition(lo: i64, end: i64) -> sea_orm::sea_query::Condition {
    sea_orm::sea_query::Condition::all()
        .add(Expr::col("inc_to").gte(lo))
        .add(Expr::col("inc_from").lt(end))
        .add(
            sea_orm::sea_query::Condition::any()
                .add(Expr::col("inc_to").gt(lo))
                .add(Expr::col("inc_from").equals("inc_to")),
        )
}

/// Readings of `device` whose increment spans overlap `[lo, end)`.
async fn overlapping(conn: &impl ConnectionTrait, device: DeviceId, lo: i64, end: i64) -> Result<Vec<Item>> {
    let mut q = select_readings(device);
    q.cond_where(overlapping_condition(lo, end));
    conn.query_all(&q)
        .await
        .map_err(from_db)?
        .iter()
        .map(item_from_row)
        .collect()
}

/// Most readings one window may hold: a 90-day history in 5-minute records
/// beside the live readings it covers fits several times over. A larger
/// window is refused rather than letting one device stall the writer.
const MAX_WINDOW: usize = 250_000;

/// Whether settling one reading can change what the other counts: one lies
/// within the other (nested live readings, history over what it covers), or
/// a history record overlaps or touches the other (regions, straddlers).
fn related(a: &Entry, b: &Entry) -> bool {
    let (sa, sb) = (a.span(), b.span());
    if sa.contains(&sb) || sb.contains(&sa) {
        return true;
    }
    let history = a.reading.kind == Kind::History || b.reading.kind == Kind::History;
    let both = a.reading.kind == Kind::History && b.reading.kind == Kind::History;
    (history && sa.overlaps(&sb)) || (both && (sa.end() == sb.from || sb.end() == sa.from))
}

/// The items to settle: the changed ones alone when nothing else overlaps
/// them (a reading appended to its series, an add-mode interval), else the
/// readings related to them, transitively (see [`related`]). Readings that
/// merely overlap without being related do not widen the window.
async fn load_window(
    conn: &impl ConnectionTrait,
    device: DeviceId,
    changed: &[Item],
    also: &[Span],
) -> Result<Vec<Item>> {
    let (lo, end) = bounds(changed, also);
    let is_history = changed.iter().any(|i| i.entry.reading.kind == Kind::History);
    if !is_history && !overlaps_others(conn, device, lo, end, &changed_ids(changed)).await? {
        return Ok(changed.to_vec());
    }
    load_related(conn, device, changed, lo, end).await
}

/// The smallest span holding every changed reading's increment and the
/// spans in `also`.
fn bounds(changed: &[Item], also: &[Span]) -> (i64, i64) {
    let spans = changed.iter().map(|i| i.entry.span()).chain(also.iter().copied());
    spans.fold((i64::MAX, i64::MIN), |(lo, end), s| {
        (min(lo, s.from), max(end, s.end()))
    })
}

fn changed_ids(changed: &[Item]) -> Vec<i64> {
    changed.iter().filter_map(|i| i.id).collect()
}

/// The changed readings and the stored ones related to them (see
/// [`load_window`]); `[lo, end)` are their [`bounds`].
async fn load_related(
    conn: &impl ConnectionTrait,
    device: DeviceId,
    changed: &[Item],
    lo: i64,
    end: i64,
) -> Result<Vec<Item>> {
    let changed_ids = changed_ids(changed);
    // Load a range around the changes and take the related closure; if the
    // closure reaches the range's edge, widen the range and do it again.
    let mut margin: i64 = 3600;
    loop {
        let (from, to) = (lo.saturating_sub(margin), end.saturating_add(margin));
        let mut pool: Vec<Item> = changed.to_vec();
        pool.extend(
            overlapping(conn, device, from, to)
                .await?
                .into_iter()
                .filter(|i| i.id.is_none_or(|id| !changed_ids.contains(&id))),
        );
        if pool.len() > MAX_WINDOW {
            return Err(footfall_domain::Error::internal(format!(
                "device {device}: more than {MAX_WINDOW} readings would settle together"
            )));
        }
        let members = closure(&pool, changed.len());
        let (wlo, wend) = members
            .iter()
            .map(|i| pool[*i].entry.span())
            .fold((lo, end), |(l, e), s| (min(l, s.from), max(e, s.end())));
        if wlo > from && wend < to || margin > i64::MAX / 4 {
            let mut keep = vec![false; pool.len()];
            for i in members {
                keep[i] = true;
            }
            return Ok(pool.into_iter().zip(keep).filter(|(_, k)| *k).map(|(i, _)| i).collect());
        }
        margin = max(
            max(margin.saturating_mul(4), lo.saturating_sub(wlo)),
            wend.saturating_sub(end),
        );
    }
}

/// Indices of `pool` related to its first `seeds` items, transitively.
fn closure(pool: &[Item], seeds: usize) -> Vec<usize> {
    let mut by_start: Vec<usize> = (0..pool.len()).collect();
    by_start.sort_by_key(|i| pool[*i].entry.span().from);
    let longest = pool
        .iter()
        .map(|i| i.entry.span().end() - i.entry.span().from)
        .max()
        .unwrap_or(0);
    let mut member = vec![false; pool.len()];
    let mut todo: Vec<usize> = (0..seeds.min(pool.len())).collect();
    for i in &todo {
        member[*i] = true;
    }
    while let Some(i) = todo.pop() {
        let span = pool[i].entry.span();
        // Only readings starting within `longest` before this one can reach it.
        let first = by_start.partition_point(|j| pool[*j].entry.span().from < span.from.saturating_sub(longest));
        let last = by_start.partition_point(|j| pool[*j].entry.span().from <= span.end());
        for &j in &by_start[first..last] {
            if !member[j] && related(&pool[i].entry, &pool[j].entry) {
                member[j] = true;
                todo.push(j);
            }
        }
    }
    (0..pool.len()).filter(|i| member[*i]).collect()
}

/// Whether a stored reading other than `except` overlaps `[lo, end)`.
async fn overlaps_others(
    conn: &impl ConnectionTrait,
    device: DeviceId,
    lo: i64,
    end: i64,
    except: &[i64],
) -> Result<bool> {
    let mut q = Query::select();
    q.column("id")
        .from(READINGS)
        .and_where(Expr::col("device_id").eq(device.as_uuid()))
        .cond_where(overlapping_condition(lo, end));
    if !except.is_empty() {
        q.and_where(Expr::col("id").is_not_in(except.iter().copied()));
    }
    q.limit(1);
    Ok(conn.query_one(&q).await.map_err(from_db)?.is_some())
}

fn insert_columns() -> Vec<String> {
    let mut columns: Vec<String> = [
        "tenant_id",
        "site_id",
        "device_id",
        "kind",
        "start_time",
        "end_time",
        "device_time",
        "received_at",
        "has_split",
        "total",
        "avg_stay_ms",
        "inc_from",
        "inc_to",
        "upload_id",
    ]
    .map(String::from)
    .to_vec();
    for prefix in ["r_", "i_", "n_"] {
        columns.extend(COUNTERS.map(|c| format!("{prefix}{c}")));
    }
    columns
}

/// The values of a new reading row, in [`insert_columns`] order.
fn row_values(row: &NewRow) -> Vec<Expr> {
    let (owner, item) = (row.owner, &row.item);
    let e = &item.entry;
    let mut values: Vec<Expr> = vec![
        owner.tenant.as_uuid().into(),
        item.site.as_uuid().into(),
        owner.device.as_uuid().into(),
        e.reading.kind.code().into(),
        e.reading.span.from.into(),
        e.reading.span.to.into(),
        item.device_time.into(),
        row.received_at.into(),
        item.has_split.into(),
        item.total.map(to_i64).into(),
        item.avg_stay_ms.map(to_i64).into(),
        e.increment.span.from.into(),
        e.increment.span.to.into(),
        row.upload_id.into(),
    ];
    for tally in [&e.reading.tally, &e.increment.tally, &e.counted] {
        values.extend(tally_values(tally).map(|v| Expr::from(to_i64(v))));
    }
    values
}

async fn update(conn: &impl ConnectionTrait, item: &Item) -> Result<()> {
    let id = item
        .id
        .ok_or_else(|| footfall_domain::Error::internal("updating a reading that is not stored"))?;
    let e = &item.entry;
    let mut values: Vec<(String, Expr)> = vec![
        ("inc_from".into(), e.increment.span.from.into()),
        ("inc_to".into(), e.increment.span.to.into()),
        ("avg_stay_ms".into(), item.avg_stay_ms.map(to_i64).into()),
        ("total".into(), item.total.map(to_i64).into()),
    ];
    for (prefix, tally) in [("r_", &e.reading.tally), ("i_", &e.increment.tally), ("n_", &e.counted)] {
        for (name, v) in COUNTERS.iter().zip(tally_values(tally)) {
            values.push((format!("{prefix}{name}"), Expr::from(to_i64(v))));
        }
    }
    let stmt = Query::update()
        .table(READINGS)
        .values(values)
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    conn.execute(&stmt).await.map_err(from_db)?;
    Ok(())
}

/// What re-deriving did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub devices: usize,
    pub readings: usize,
    /// Readings whose stored increment or count was not what the rules give.
    pub corrected: usize,
}

/// Re-derives, from the readings as reported, every reading's increment and
/// count and every rollup row: of one tenant, or of all. One transaction per
/// device, holding the device while it works.
pub async fn rebuild(db: &Db, tenant: Option<TenantId>) -> Result<Rebuilt> {
    let mut q = Query::select();
    q.distinct().column("device_id").from(READINGS);
    if let Some(t) = tenant {
        q.and_where(Expr::col("tenant_id").eq(t.as_uuid()));
    }
    let devices: Vec<Uuid> = db
        .conn()
        .query_all(&q)
        .await
        .map_err(from_db)?
        .iter()
        .map(|r| r.try_get("", "device_id").map_err(from_db))
        .collect::<Result<_>>()?;
    let mut total = Rebuilt::default();
    for device in devices {
        let (_writing, txn) = db.begin_write().await?;
        let one = rebuild_device(&txn, DeviceId::from_uuid(device)).await?;
        txn.commit().await.map_err(from_db)?;
        total.devices += 1;
        total.readings += one.readings;
        total.corrected += one.corrected;
    }
    Ok(total)
}

async fn rebuild_device(conn: &impl ConnectionTrait, device: DeviceId) -> Result<Rebuilt> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        let lock = Query::select()
            .column("id")
            .from("devices")
            .and_where(Expr::col("id").eq(device.as_uuid()))
            .lock(sea_orm::sea_query::LockType::Update)
            .to_owned();
        conn.query_all(&lock).await.map_err(from_db)?;
    }
    let mut q = select_readings(device);
    q.column("tenant_id")
        .order_by("kind", Order::Asc)
        .order_by("start_time", Order::Asc)
        .order_by("end_time", Order::Asc);
    let rows = conn.query_all(&q).await.map_err(from_db)?;
    let mut items = rows.iter().map(item_from_row).collect::<Result<Vec<Item>>>()?;
    let tenant: Option<Uuid> = rows
        .first()
        .map(|r| r.try_get("", "tenant_id").map_err(from_db))
        .transpose()?;
    let Some(tenant) = tenant else {
        return Ok(Rebuilt::default());
    };

    // The series rule over each live series, then settle everything.
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    let mut prev: Option<Reading> = None;
    for item in &items {
        let reading = item.entry.reading;
        entries.push(match reading.kind {
            Kind::Live => {
                let same_series = prev.filter(|p| p.kind == Kind::Live && p.span.from == reading.span.from);
                prev = Some(reading);
                Entry::live(same_series.as_ref(), reading)
            }
            Kind::History => Entry::history(reading),
        });
    }
    settle_all(&mut entries);

    let mut corrected = 0;
    let mut quarters = RollupRows::new();
    for (item, entry) in items.iter_mut().zip(entries) {
        if item.stored != Some(entry) {
            item.entry = entry;
            update(conn, item).await?;
            corrected += 1;
        }
        if !entry.counted.is_zero() {
            quarters
                .entry((device.as_uuid(), item.site.as_uuid(), entry.bucket()))
                .or_insert((tenant, Delta::default()))
                .1
                .add(&Delta::of(&entry, item.avg_stay_ms, 1));
        }
    }
    let days = days_of(conn, &quarters).await?;
    // The site-level rows move by the difference between the device's old
    // and new daily rows; other devices' shares stay.
    let mut change = site_days(&stored_days(conn, device, -1).await?);
    for (key, (tenant, delta)) in site_days(&days) {
        change.entry(key).or_insert((tenant, Delta::default())).1.add(&delta);
    }
    upsert_site_days(conn, &change, Mode::Add).await?;
    for table in [ROLLUP, ROLLUP_DAY] {
        let delete = Query::delete()
            .from_table(table)
            .and_where(Expr::col("device_id").eq(device.as_uuid()))
            .to_owned();
        conn.execute(&delete).await.map_err(from_db)?;
    }
    upsert_rollups(conn, ROLLUP, "bucket", &quarters, Mode::Insert).await?;
    upsert_rollups(conn, ROLLUP_DAY, "day", &days, Mode::Insert).await?;
    Ok(Rebuilt {
        devices: 1,
        readings: items.len(),
        corrected,
    })
}

/// Regroups a site's daily rollups after its timezone changed: the days are
/// re-derived from the 15-minute rows in the new zone. Runs in the caller's
/// transaction, after the site row has its new timezone; holds every device
/// with rows under the site (Postgres), in id order as the writer does, so no
/// upload for them commits in between.
pub(crate) async fn regroup_days(txn: &impl ConnectionTrait, tenant: TenantId, site: SiteId) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        let devices = Query::select()
            .distinct()
            .column("device_id")
            .from(ROLLUP)
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("site_id").eq(site.as_uuid()))
            .to_owned();
        let lock = Query::select()
            .column("id")
            .from("devices")
            .and_where(
                Expr::col("id")
                    .in_subquery(devices)
                    .or(Expr::col("site_id").eq(site.as_uuid())),
            )
            .order_by("id", Order::Asc)
            .lock(sea_orm::sea_query::LockType::Update)
            .to_owned();
        txn.query_all(&lock).await.map_err(from_db)?;
    }
    let mut q = Query::select();
    q.columns(["device_id", "site_id", "bucket", "stay_ms_sum", "stay_people"])
        .columns(COUNTERS)
        .from(ROLLUP)
        .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
        .and_where(Expr::col("site_id").eq(site.as_uuid()));
    let mut quarters = RollupRows::new();
    for row in txn.query_all(&q).await.map_err(from_db)? {
        let d = delta_from_row(&row, 1)?;
        let device: Uuid = row.try_get("", "device_id").map_err(from_db)?;
        let bucket: i64 = row.try_get("", "bucket").map_err(from_db)?;
        quarters.insert((device, site.as_uuid(), bucket), (tenant.as_uuid(), d));
    }
    let days = days_of(txn, &quarters).await?;
    for table in [ROLLUP_DAY, ROLLUP_SITE_DAY] {
        let delete = Query::delete()
            .from_table(table)
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("site_id").eq(site.as_uuid()))
            .to_owned();
        txn.execute(&delete).await.map_err(from_db)?;
    }
    upsert_rollups(txn, ROLLUP_DAY, "day", &days, Mode::Add).await?;
    upsert_site_days(txn, &site_days(&days), Mode::Add).await
}
