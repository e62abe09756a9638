//! The ingest writer: group commit for device uploads.
//!
//! Request handlers hand their decoded upload to the writer task its device
//! belongs to (writers run on a thread of their own) and wait. A writer
//! takes everything queued, writes it in one transaction
//! (raw payloads, readings, events, occupancy, rollups), commits, and only
//! then releases each waiting request, so an acknowledged upload is durable
//! and concurrent uploads share one commit. The queue is bounded: when it is
//! full a device is told to retry at once instead of the server growing
//! without limit.
//!
//! On Postgres the devices in a batch are locked (in id order) for the
//! transaction, so instances sharing the database never interleave their
//! work on one device. SQLite has one writer anyway.

use std::cmp::{max, min};
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use footfall_domain::camera::{CameraEvent, CameraReport, SensorSample, VehicleCount};
use footfall_domain::counting::Kind;
use footfall_domain::ingest::{CountReport, PersonEvent, StayReport};
use footfall_domain::{Error, Result};
use futures_util::FutureExt;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::commands::fulfil_history;
use crate::db::{corrupt, from_db};
use crate::readings::{Applied, Incoming, Owner, RollupDeltas, record, record_lone};
use crate::{Db, Engine};

/// Longest raw body kept per upload; longer ones are kept truncated.
pub const RAW_BODY_LIMIT: usize = 256 * 1024;

/// The payload of an upload as it arrived, kept so it can be re-derived.
#[derive(Debug, Clone)]
pub struct RawUpload {
    pub endpoint: &'static str,
    pub sn: String,
    pub body: String,
}

/// What to write for one upload.
#[derive(Debug, Clone)]
pub enum Work {
    Counts(CountReport),
    Stay(StayReport),
    /// An IPC camera's report: counts, occupancy, events, sensor values.
    Camera(CameraReport),
    /// A body from a bound device that is not a known shape: kept raw only.
    Unrecognised(String),
}

#[derive(Debug, Clone)]
pub struct Job {
    pub owner: Owner,
    pub work: Work,
    pub raw: RawUpload,
    pub received_at: DateTime<Utc>,
}

/// What writing one upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Recorded {
        /// Readings stored for the first time.
        stored: usize,
        /// Readings that were already stored (retransmissions).
        repeats: usize,
        /// History commands this upload answered.
        answered: u64,
    },
    /// Kept raw only (unrecognised shape).
    KeptRaw,
    /// The device was unbound while the upload was in flight.
    DeviceGone,
}

type Reply = oneshot::Sender<Result<Outcome>>;

/// Statements a writer keeps prepared (least recently used go first).
/// Multi-row statements differ by their number of rows, so a writer runs a
/// few hundred distinct ones; each kept one holds memory (in the writer's
/// Postgres backend; in this process on SQLite, where preparing is cheap
/// and memory is the server's own), which bounds this.
fn prepared_statements(engine: Engine) -> usize {
    match engine {
        Engine::Postgres => 256,
        Engine::Sqlite => 32,
    }
}

#[derive(Clone)]
pub struct Writer {
    /// One queue per writer task; a device's uploads always go to the same
    /// one, so they are written in the order they arrived.
    queues: Vec<mpsc::Sender<(Job, Reply)>>,
}

impl Writer {
    /// Starts `writers` writer tasks (at least one), each with its own
    /// transactions. `capacity` bounds the queues (shared out among them);
    /// `max_batch` the uploads written per transaction.
    ///
    /// Several writers help where the database can commit several
    /// transactions at once (Postgres); SQLite serialises writes anyway.
    /// Concurrent batches lock shared rollup rows in key order, and a
    /// device's uploads never meet in two batches at once.
    ///
    /// The writers run on a thread of their own, so a batch's next statement
    /// goes out as soon as the database answers the last one instead of
    /// waiting its turn behind request handlers. On Postgres each writer has
    /// a connection of its own, on which its statements stay prepared.
    pub async fn start(db: Db, capacity: usize, max_batch: usize, writers: usize) -> Result<Writer> {
        let writers = writers.max(1);
        let per_queue = capacity.div_ceil(writers).max(1);
        let (queues, receivers): (Vec<_>, Vec<_>) = (0..writers).map(|_| mpsc::channel(per_queue)).unzip();
        let (started, ready) = oneshot::channel::<Result<()>>();
        std::thread::Builder::new()
            .name("ingest-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(Error::internal(format!("ingest writer runtime: {e}"))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut tasks = Vec::with_capacity(receivers.len());
                    for jobs in receivers {
                        match db.dedicated(prepared_statements(db.engine())).await {
                            Ok(own) => tasks.push(tokio::spawn(run(own, jobs, max_batch.max(1)))),
                            Err(e) => {
                                let _ = started.send(Err(e));
                                return;
                            }
                        }
                    }
                    let _ = started.send(Ok(()));
                    // Until every queue's senders are gone.
                    for task in tasks {
                        let _ = task.await;
                    }
                });
            })
            .map_err(|e| Error::internal(format!("ingest writer thread: {e}")))?;
        ready
            .await
            .map_err(|_| Error::internal("ingest writer thread stopped while starting"))??;
        Ok(Writer { queues })
    }

    /// Writes `job` and waits until it is durable. Fails at once with
    /// `Unavailable` when its queue is full.
    pub async fn submit(&self, job: Job) -> Result<Outcome> {
        let (reply, done) = oneshot::channel();
        let device = job.owner.device.as_uuid().as_u128();
        let queue = &self.queues[(device % self.queues.len() as u128) as usize];
        queue.try_send((job, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::unavailable("ingest queue full"),
            mpsc::error::TrySendError::Closed(_) => Error::internal("ingest writer stopped"),
        })?;
        done.await
            .map_err(|_| Error::internal("ingest writer dropped an upload"))?
    }
}

async fn run(db: Db, mut jobs: mpsc::Receiver<(Job, Reply)>, max_batch: usize) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (batch, replies): (Vec<Job>, Vec<Reply>) = batch.into_iter().unzip();
        match guarded(write_batch(&db, &batch)).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            // The database is down: every upload in the batch fails alike.
            Err(Error::Unavailable(e)) => {
                tracing::warn!(error = %e, uploads = batch.len(), "ingest batch failed: database unavailable");
                for reply in replies {
                    let _ = reply.send(Err(Error::unavailable("database unavailable")));
                }
            }
            // One upload may be at fault: write each on its own.
            Err(e) => {
                tracing::warn!(error = %e, uploads = batch.len(), "ingest batch failed; retrying one by one");
                for (job, reply) in batch.iter().zip(replies) {
                    let one = guarded(write_batch(&db, std::slice::from_ref(job))).await;
                    let _ = reply.send(one.and_then(|o| {
                        o.into_iter()
                            .next()
                            .ok_or_else(|| Error::internal("a batch of one gave no outcome"))
                    }));
                }
            }
        }
    }
}

/// Runs a batch, turning a panic (a defect) into an error for its uploads
/// so the writer, and with it every device's ingest, keeps going.
async fn guarded(batch: impl std::future::Future<Output = Result<Vec<Outcome>>>) -> Result<Vec<Outcome>> {
    match std::panic::AssertUnwindSafe(batch).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!("writing an ingest batch panicked; its uploads are refused");
            Err(Error::internal("ingest batch panicked"))
        }
    }
}

/// Writes every job in one transaction; one outcome per job, in order.
///
/// Statements are per batch where the work allows: raw bodies, readings of
/// devices with one reading in the batch (the common case: a device waits
/// for its answer before it sends again) and person events each go in
/// multi-row statements. A device with several readings in the batch has
/// them recorded one by one, in the order they arrived.
async fn write_batch(db: &Db, jobs: &[Job]) -> Result<Vec<Outcome>> {
    let (_writing, txn) = db.begin_write().await?;
    let bound = lock_devices(&txn, jobs).await?;
    // By job: whether its device is still bound (an unbound one is answered "gone").
    let still_bound: Vec<bool> = jobs
        .iter()
        .map(|j| bound.binary_search(&j.owner.device.as_uuid()).is_ok())
        .collect();
    let upload_ids = keep_raw(&txn, jobs, &still_bound).await?;

    let mut readings_of: HashMap<Uuid, usize> = HashMap::new();
    for job in jobs.iter().zip(&still_bound).filter(|(_, l)| **l).map(|(j, _)| j) {
        let n = job.work.counts().map_or(0, |r| r.readings.len());
        *readings_of.entry(job.owner.device.as_uuid()).or_default() += n;
    }
    let mut deltas = RollupDeltas::default();
    let mut written = vec![Written::default(); jobs.len()];
    let mut lone: Vec<(usize, Incoming<'_>)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let Some(upload_id) = upload_ids[i] else { continue };
        let owner = job.owner;
        let received_at = job.received_at.timestamp();
        if let Some(report) = job.work.counts() {
            let alone = readings_of.get(&owner.device.as_uuid()) == Some(&1);
            for reported in &report.readings {
                let incoming = Incoming {
                    owner,
                    reported,
                    device_time: report.device_time,
                    upload_id: Some(upload_id),
                    received_at,
                };
                if alone {
                    lone.push((i, incoming));
                } else {
                    written[i].applied(record(&txn, incoming, &mut deltas).await?);
                }
            }
            written[i].answered = answer_history(&txn, owner, report).await?;
        }
        match &job.work {
            Work::Stay(report) => written[i].add(write_stay(&txn, owner, report, received_at).await?),
            Work::Camera(report) => {
                if let Some(stay) = &report.occupancy {
                    written[i].add(write_stay(&txn, owner, stay, received_at).await?);
                }
                written[i].add(insert_camera_events(&txn, owner, &report.events, received_at).await?);
                written[i].add(insert_sensor_samples(&txn, owner, &report.sensors, received_at).await?);
                written[i].add(insert_vehicle_counts(&txn, owner, &report.vehicles, received_at).await?);
            }
            Work::Counts(_) | Work::Unrecognised(_) => {}
        }
    }
    let incoming: Vec<Incoming<'_>> = lone.iter().map(|(_, r)| *r).collect();
    for ((i, _), applied) in lone.iter().zip(record_lone(&txn, &incoming, &mut deltas).await?) {
        written[*i].applied(applied);
    }
    insert_events(&txn, jobs, &still_bound).await?;
    if !deltas.is_empty() {
        deltas.flush(&txn).await?;
    }

    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut last_upload: BTreeMap<Uuid, DateTime<Utc>> = BTreeMap::new();
    for ((job, bound), w) in jobs.iter().zip(&still_bound).zip(written) {
        outcomes.push(match (&job.work, bound) {
            (_, false) => Outcome::DeviceGone,
            (Work::Unrecognised(_), true) => Outcome::KeptRaw,
            (_, true) => {
                let at = last_upload.entry(job.owner.device.as_uuid()).or_insert(job.received_at);
                *at = max(*at, job.received_at);
                Outcome::Recorded {
                    stored: w.stored,
                    repeats: w.repeats,
                    answered: w.answered,
                }
            }
        });
    }
    // One statement for every device of the batch.
    if let Some((first, first_at)) = last_upload.first_key_value() {
        let mut case = sea_orm::sea_query::CaseStatement::new().case(Expr::col("id").eq(*first), *first_at);
        for (device, at) in last_upload.iter().skip(1) {
            case = case.case(Expr::col("id").eq(*device), *at);
        }
        let stmt = Query::update()
            .table("devices")
            .value("last_upload_at", case.finally(Expr::col("last_upload_at")))
            .and_where(Expr::col("id").is_in(last_upload.keys().copied()))
            .to_owned();
        txn.execute(&stmt).await.map_err(from_db)?;
    }
    txn.commit().await.map_err(from_db)?;
    Ok(outcomes)
}

/// Locks the batch's devices (Postgres) and returns those still bound, sorted.
async fn lock_devices(txn: &DatabaseTransaction, jobs: &[Job]) -> Result<Vec<Uuid>> {
    let mut ids: Vec<Uuid> = jobs.iter().map(|j| j.owner.device.as_uuid()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut q = Query::select();
    q.column("id")
        .from("devices")
        .and_where(Expr::col("id").is_in(ids))
        .order_by("id", sea_orm::sea_query::Order::Asc);
    if txn.get_database_backend() == DbBackend::Postgres {
        q.lock(sea_orm::sea_query::LockType::Update);
    }
    let mut bound = txn
        .query_all(&q)
        .await
        .map_err(from_db)?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id").map_err(from_db))
        .collect::<Result<Vec<Uuid>>>()?;
    bound.sort_unstable();
    Ok(bound)
}

impl Work {
    /// The count readings this upload carries, if any.
    fn counts(&self) -> Option<&CountReport> {
        match self {
            Work::Counts(report) => Some(report),
            Work::Camera(report) => Some(&report.counts),
            Work::Stay(_) | Work::Unrecognised(_) => None,
        }
    }
}

/// What writing part of an upload did.
#[derive(Debug, Default, Clone, Copy)]
struct Written {
    stored: usize,
    repeats: usize,
    answered: u64,
}

impl Written {
    fn add(&mut self, other: Written) {
        self.stored += other.stored;
        self.repeats += other.repeats;
        self.answered += other.answered;
    }

    fn applied(&mut self, applied: Applied) {
        match applied {
            Applied::Stored => self.stored += 1,
            Applied::Repeat => self.repeats += 1,
        }
    }

    /// `stored` rows out of `total` offered; the rest were already there.
    fn rows(stored: u64, total: usize) -> Written {
        let stored = usize::try_from(stored).unwrap_or(total).min(total);
        Written {
            stored,
            repeats: total - stored,
            answered: 0,
        }
    }
}

/// Marks the history commands the report's history readings answer.
async fn answer_history(txn: &DatabaseTransaction, owner: Owner, report: &CountReport) -> Result<u64> {
    let history = report.readings.iter().filter(|r| r.reading.kind == Kind::History);
    let span = history.fold(None, |acc: Option<(i64, i64)>, r| {
        let s = r.reading.span;
        Some(acc.map_or((s.from, s.to), |(a, b)| (min(a, s.from), max(b, s.to))))
    });
    match span {
        Some((from, to)) => fulfil_history(txn, owner.device.as_uuid(), from, to).await,
        None => Ok(0),
    }
}

async fn write_stay(txn: &DatabaseTransaction, owner: Owner, report: &StayReport, received_at: i64) -> Result<Written> {
    let people: Vec<serde_json::Value> = report
        .people
        .iter()
        .map(|p| json!({"id": p.id, "height": p.height_cm, "status": p.status, "staytime": p.stay_ms}))
        .collect();
    let stmt = Query::insert()
        .into_table("stay_readings")
        .columns([
            "tenant_id",
            "site_id",
            "device_id",
            "time",
            "received_at",
            "current_stay",
            "people",
        ])
        .values([
            owner.tenant.as_uuid().into(),
            owner.site.as_uuid().into(),
            owner.device.as_uuid().into(),
            report.time.into(),
            received_at.into(),
            i64::from(report.current).into(),
            serde_json::Value::Array(people).into(),
        ])
        .map_err(|e| corrupt("stay statement", e))?
        .on_conflict(OnConflict::columns(["device_id", "time"]).do_nothing().to_owned())
        .to_owned();
    let inserted = txn.execute(&stmt).await.map_err(from_db)?.rows_affected();
    // The latest reading by device clock is the device's occupancy.
    let update = Query::update()
        .table("devices")
        .value("occupancy", i64::from(report.current))
        .value("occupancy_at", report.time)
        .and_where(Expr::col("id").eq(owner.device.as_uuid()))
        .and_where(
            Expr::col("occupancy_at")
                .is_null()
                .or(Expr::col("occupancy_at").lte(report.time)),
        )
        .to_owned();
    txn.execute(&update).await.map_err(from_db)?;
    Ok(Written::rows(inserted, 1))
}

/// Raw bodies per insert statement (9 values each).
const RAW_PER_STATEMENT: usize = 1000;

/// Keeps the raw body of every upload of a still-bound device; the id of
/// each kept row, by job (`None` for the others).
///
/// The ids come back from one multi-row insert. Rows of one statement are
/// given their ids in `VALUES` order (Postgres draws the sequence row by row,
/// SQLite takes the next rowid), so sorting the returned ids maps them back
/// to the jobs whatever order `RETURNING` lists them in.
async fn keep_raw(txn: &DatabaseTransaction, jobs: &[Job], still_bound: &[bool]) -> Result<Vec<Option<i64>>> {
    let kept: Vec<usize> = (0..jobs.len()).filter(|i| still_bound[*i]).collect();
    let mut ids = vec![None; jobs.len()];
    for chunk in kept.chunks(RAW_PER_STATEMENT) {
        let mut stmt = Query::insert();
        stmt.into_table("raw_uploads").columns([
            "tenant_id",
            "device_id",
            "sn",
            "endpoint",
            "received_at",
            "outcome",
            "message",
            "truncated",
            "body",
        ]);
        for i in chunk {
            let job = &jobs[*i];
            let (outcome, message) = match &job.work {
                Work::Unrecognised(message) => (2i16, Some(message.replace('\0', "\u{fffd}"))),
                _ => (0, None),
            };
            let (body, truncated) = cap(&job.raw.body);
            stmt.values([
                job.owner.tenant.as_uuid().into(),
                job.owner.device.as_uuid().into(),
                job.raw.sn.clone().into(),
                job.raw.endpoint.into(),
                job.received_at.timestamp().into(),
                outcome.into(),
                message.into(),
                truncated.into(),
                body.into(),
            ])
            .map_err(|e| corrupt("raw upload statement", e))?;
        }
        stmt.returning_col("id");
        let mut returned = txn
            .query_all(&stmt)
            .await
            .map_err(from_db)?
            .iter()
            .map(|row| row.try_get::<i64>("", "id").map_err(from_db))
            .collect::<Result<Vec<i64>>>()?;
        if returned.len() != chunk.len() {
            return Err(Error::internal("raw upload insert returned a different number of ids"));
        }
        returned.sort_unstable();
        for (i, id) in chunk.iter().zip(returned) {
            ids[*i] = Some(id);
        }
    }
    Ok(ids)
}

/// The body, cut at `RAW_BODY_LIMIT` on a character boundary.
/// The body as kept: at most [`RAW_BODY_LIMIT`] bytes, NUL characters
/// (which no database text type stores) replaced with U+FFFD.
fn cap(body: &str) -> (String, bool) {
    let mut end = body.len().min(RAW_BODY_LIMIT);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    (body[..end].replace('\0', "\u{fffd}"), end < body.len())
}

/// Person events of every upload of a still-bound device.
async fn insert_events(txn: &DatabaseTransaction, jobs: &[Job], still_bound: &[bool]) -> Result<()> {
    let events: Vec<(&Job, &PersonEvent)> = jobs
        .iter()
        .zip(still_bound)
        .filter(|(_, l)| **l)
        .filter_map(|(job, _)| match &job.work {
            Work::Counts(report) => Some(report.events.iter().map(move |e| (job, e))),
            _ => None,
        })
        .flatten()
        .collect();
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let mut stmt = Query::insert();
        stmt.into_table("count_events").columns([
            "tenant_id",
            "site_id",
            "device_id",
            "event_id",
            "at_us",
            "event_type",
            "direction",
            "child",
            "height_cm",
            "stay_ms",
            "received_at",
        ]);
        for (job, e) in chunk {
            let owner = job.owner;
            stmt.values([
                owner.tenant.as_uuid().into(),
                owner.site.as_uuid().into(),
                owner.device.as_uuid().into(),
                e.event_id.into(),
                e.at_us.into(),
                e.raw_type.into(),
                e.direction.map(|d| d.code()).into(),
                e.child.into(),
                e.height_cm.into(),
                e.stay_ms.into(),
                job.received_at.timestamp().into(),
            ])
            .map_err(|e| corrupt("event statement", e))?;
        }
        stmt.on_conflict(
            OnConflict::columns(["device_id", "at_us", "event_id", "event_type"])
                .do_nothing()
                .to_owned(),
        );
        txn.execute(&stmt).await.map_err(from_db)?;
    }
    Ok(())
}

/// Events per insert statement (11 values each).
const EVENTS_PER_STATEMENT: usize = 1000;

async fn insert_camera_events(
    txn: &DatabaseTransaction,
    owner: Owner,
    events: &[CameraEvent],
    received_at: i64,
) -> Result<Written> {
    let mut stored = 0;
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let mut stmt = Query::insert();
        stmt.into_table("camera_events").columns([
            "tenant_id",
            "site_id",
            "device_id",
            "source",
            "kind",
            "name",
            "status",
            "channel",
            "at_ms",
            "local_time",
            "received_at",
            "attributes",
            "image_key",
            "dedupe",
        ]);
        for e in chunk {
            let attributes = (!e.attributes.is_empty()).then(|| serde_json::Value::Object(e.attributes.clone()));
            stmt.values([
                owner.tenant.as_uuid().into(),
                owner.site.as_uuid().into(),
                owner.device.as_uuid().into(),
                e.source.as_str().into(),
                e.kind.clone().into(),
                e.name.clone().into(),
                e.status.clone().into(),
                e.channel.into(),
                e.at_ms.into(),
                e.local_time.clone().into(),
                received_at.into(),
                attributes.into(),
                e.image_key.clone().into(),
                e.dedupe.clone().into(),
            ])
            .map_err(|e| corrupt("camera event statement", e))?;
        }
        stmt.on_conflict(OnConflict::columns(["device_id", "dedupe"]).do_nothing().to_owned());
        stored += txn.execute(&stmt).await.map_err(from_db)?.rows_affected();
    }
    Ok(Written::rows(stored, events.len()))
}

async fn insert_vehicle_counts(
    txn: &DatabaseTransaction,
    owner: Owner,
    counts: &[VehicleCount],
    received_at: i64,
) -> Result<Written> {
    let mut stored = 0;
    for chunk in counts.chunks(EVENTS_PER_STATEMENT) {
        let mut stmt = Query::insert();
        stmt.into_table("vehicle_counts").columns([
            "tenant_id",
            "site_id",
            "device_id",
            "direction",
            "count",
            "lane",
            "vehicle_type",
            "plate",
            "at_ms",
            "received_at",
            "dedupe",
        ]);
        for v in chunk {
            stmt.values([
                owner.tenant.as_uuid().into(),
                owner.site.as_uuid().into(),
                owner.device.as_uuid().into(),
                v.direction.as_str().into(),
                i64::try_from(v.count).unwrap_or(i64::MAX).into(),
                v.lane.into(),
                v.vehicle_type.into(),
                v.plate.clone().into(),
                v.at_ms.into(),
                received_at.into(),
                v.dedupe.clone().into(),
            ])
            .map_err(|e| corrupt("vehicle count statement", e))?;
        }
        stmt.on_conflict(OnConflict::columns(["device_id", "dedupe"]).do_nothing().to_owned());
        stored += txn.execute(&stmt).await.map_err(from_db)?.rows_affected();
    }
    Ok(Written::rows(stored, counts.len()))
}

async fn insert_sensor_samples(
    txn: &DatabaseTransaction,
    owner: Owner,
    samples: &[SensorSample],
    received_at: i64,
) -> Result<Written> {
    let mut stored = 0;
    for chunk in samples.chunks(EVENTS_PER_STATEMENT) {
        let mut stmt = Query::insert();
        stmt.into_table("sensor_readings").columns([
            "tenant_id",
            "site_id",
            "device_id",
            "kind",
            "key",
            "name",
            "channel",
            "value",
            "threshold",
            "alarm",
            "at_ms",
            "received_at",
        ]);
        for s in chunk {
            stmt.values([
                owner.tenant.as_uuid().into(),
                owner.site.as_uuid().into(),
                owner.device.as_uuid().into(),
                s.kind.as_str().into(),
                s.key.clone().into(),
                s.name.clone().into(),
                s.channel.into(),
                s.value.into(),
                s.threshold.into(),
                s.alarm.into(),
                s.at_ms.into(),
                received_at.into(),
            ])
            .map_err(|e| corrupt("sensor statement", e))?;
        }
        stmt.on_conflict(
            OnConflict::columns(["device_id", "kind", "key", "at_ms"])
                .do_nothing()
                .to_owned(),
        );
        stored += txn.execute(&stmt).await.map_err(from_db)?.rows_affected();
    }
    Ok(Written::rows(stored, samples.len()))
}
