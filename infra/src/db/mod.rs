//! The relational store: Postgres in production, SQLite embedded, through one
//! sea-orm code path. It holds everything that must not be lost.

pub(crate) mod entities;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use footfall_domain::Error;
use footfall_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Which engine is behind the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
        }
    }
}

/// A pooled connection to the store; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<DatabaseConnection>,
    engine: Engine,
    url: Arc<str>,
    /// SQLite has one writer at a time. Its own busy handler retries with
    /// sleeps and lets a busy writer starve the others, so writers of this
    /// process queue here instead, first come first served.
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// Held while writing; a no-op on Postgres, which takes concurrent writers.
pub(crate) struct WriteGuard(#[allow(dead_code)] Option<tokio::sync::OwnedMutexGuard<()>>);

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("engine", &self.engine).finish()
    }
}

/// The URL of the embedded database file inside `data_dir`.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("footfall.db").display())
}

impl Db {
    /// Connects to `url` (`postgres://…` or `sqlite://…`). The pool is created
    /// lazily enough that a database which is briefly down at start-up makes
    /// `/readyz` fail rather than the process exit.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, Error> {
        let engine = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            return Err(Error::internal(format!(
                "DATABASE_URL must start with postgres:// or sqlite:, got {:?}",
                url.split(':').next().unwrap_or_default()
            )));
        };
        let conn = Database::connect(Self::options(url, engine, max_connections, None))
            .await
            .map_err(from_db)?;
        Ok(Db {
            conn: Arc::new(conn),
            engine,
            url: url.into(),
            writers: (engine == Engine::Sqlite).then(Arc::default),
        })
    }

    /// `statements`: how many prepared statements each connection keeps
    /// (sqlx's default when `None`).
    fn options(url: &str, engine: Engine, max_connections: u32, statements: Option<usize>) -> ConnectOptions {
        let mut options = ConnectOptions::new(url.to_string());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(2))
            .acquire_timeout(Duration::from_secs(2))
            .sqlx_logging(false);
        if engine == Engine::Sqlite {
            // WAL lets readers run beside the writer; FULL sync makes a commit
            // durable before it is acknowledged, which uploads rely on.
            options.map_sqlx_sqlite_opts(move |o| {
                let o = o
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true);
                match statements {
                    Some(n) => o.statement_cache_capacity(n),
                    None => o,
                }
            });
        } else if let Some(n) = statements {
            options.map_sqlx_postgres_opts(move |o| o.statement_cache_capacity(n));
        }
        options
    }

    /// A handle with a pool of its own, of one connection, for a task that
    /// runs the same statements over and over (an ingest writer): it keeps
    /// them prepared on its connection (up to `statements` of them) instead of
    /// preparing them again on whichever pooled connection comes next, and
    /// bounds what they hold. Its connection is made when first used. On
    /// SQLite it shares this handle's write turn.
    pub async fn dedicated(&self, statements: usize) -> Result<Db, Error> {
        let mut options = Self::options(&self.url, self.engine, 1, Some(statements));
        options.min_connections(0).connect_lazy(true);
        let conn = Database::connect(options).await.map_err(from_db)?;
        Ok(Db {
            conn: Arc::new(conn),
            engine: self.engine,
            url: self.url.clone(),
            writers: self.writers.clone(),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), Error> {
        Migrator::up(self.conn.as_ref(), None).await.map_err(from_db)
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), Error> {
        self.conn.ping().await.map_err(from_db)
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Waits for this process's turn to write (SQLite); hold the guard for
    /// the write.
    pub(crate) async fn write_guard(&self) -> WriteGuard {
        match &self.writers {
            Some(lock) => WriteGuard(Some(lock.clone().lock_owned().await)),
            None => WriteGuard(None),
        }
    }

    /// Begins a transaction that will write, holding this process's turn to
    /// write until the guard is dropped (after commit). On SQLite it also
    /// takes the database's write lock at once (`BEGIN IMMEDIATE`), so another
    /// process writing in between makes it wait rather than fail later.
    pub(crate) async fn begin_write(&self) -> Result<(WriteGuard, DatabaseTransaction), Error> {
        let guard = self.write_guard().await;
        let txn = self
            .conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
            .map_err(from_db)?;
        Ok((guard, txn))
    }
}

/// Maps a storage failure that has no domain meaning: an unreachable database
/// is `Unavailable` (retry later), anything else `Internal`. Constraint
/// violations with a meaning are mapped by the repository that knows it.
pub(crate) fn from_db(err: DbErr) -> Error {
    if is_unavailable(&err) {
        Error::unavailable(err)
    } else {
        Error::internal(err)
    }
}

fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            e.as_ref(),
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_)
        ),
        _ => false,
    }
}

pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub(crate) fn is_foreign_key_violation(err: &DbErr) -> bool {
    if matches!(err.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) {
        return true;
    }
    // SQLite reports a RESTRICT action as a constraint failure with its own
    // extended code, which `sql_err` does not classify.
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(e.as_ref(), sea_orm::sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY constraint failed"))
        }
        _ => false,
    }
}

/// The current time at the precision both engines store (microseconds), so a
/// value reads back exactly as it was written.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A stored value that no longer parses means the store was changed behind the
/// application's back: a defect, not bad input.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {what} is invalid: {err}"))
}
