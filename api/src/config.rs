//! Typed configuration, read from environment variables (or the equivalent
//! command-line flags). With nothing set the server runs embedded: SQLite and
//! a generated signing secret under `./data`, everything else in process.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FOOTFALL_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Postgres URL (`postgres://user:pass@host/db`). Unset: embedded SQLite
    /// in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the embedded database and the generated signing secret.
    #[arg(long, env = "FOOTFALL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Redis URL (`redis://host:6379`). Unset: presence, rate limits and
    /// caches live in process memory.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key, so several deployments can share a server.
    #[arg(long, env = "FOOTFALL_REDIS_PREFIX", default_value = "footfall")]
    pub redis_prefix: String,

    /// Access-token signing secret, at least 32 bytes. Unset: generated once
    /// and kept in `<data dir>/jwt-secret`. Set it when running several
    /// instances, or tokens from one are refused by the others.
    #[arg(long, env = "FOOTFALL_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "FOOTFALL_ACCESS_TOKEN_TTL", default_value_t = 3600)]
    pub access_token_ttl_secs: u64,

    /// Apply pending database migrations at start-up.
    #[arg(long, env = "FOOTFALL_MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Size of the database connection pool.
    #[arg(long, env = "FOOTFALL_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Failed or successful logins allowed per account per 15 minutes.
    #[arg(long, env = "FOOTFALL_LOGIN_RATE_LIMIT", default_value_t = 20)]
    pub login_rate_limit: u32,

    /// Signups allowed per client address per hour.
    #[arg(long, env = "FOOTFALL_SIGNUP_RATE_LIMIT", default_value_t = 20)]
    pub signup_rate_limit: u32,

    /// Take the client address from the last `X-Forwarded-For` hop (set this
    /// only behind a proxy that writes that header).
    #[arg(long, env = "FOOTFALL_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// Uploads that may wait for the ingest writer; past this devices are
    /// told to retry at once.
    #[arg(long, env = "FOOTFALL_INGEST_QUEUE", default_value_t = 10_000)]
    pub ingest_queue: usize,

    /// Most uploads written in one transaction (group commit).
    #[arg(long, env = "FOOTFALL_INGEST_BATCH", default_value_t = 500)]
    pub ingest_batch: usize,

    /// Ingest writer tasks, each committing its own batches on a connection
    /// of its own. More help when Postgres has cores to itself; with the
    /// server on the same small box one is fastest (bench/README.md). SQLite
    /// serialises writes anyway.
    #[arg(long, env = "FOOTFALL_INGEST_WRITERS", default_value_t = 1)]
    pub ingest_writers: usize,

    /// Seconds to let in-flight requests finish after SIGTERM / Ctrl-C.
    #[arg(long, env = "FOOTFALL_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Digest realm IPC cameras are challenged with. Credentials are stored
    /// as hashes that include it: changing it needs every camera's password
    /// to be set again.
    #[arg(long, env = "FOOTFALL_DIGEST_REALM", default_value = "footfall")]
    pub digest_realm: String,

    /// Seconds a Digest nonce stays valid; after that a camera is answered
    /// `401` with `stale=true` and a fresh nonce.
    #[arg(long, env = "FOOTFALL_DIGEST_NONCE_TTL", default_value_t = 3600)]
    pub digest_nonce_ttl_secs: u64,

    /// Algorithm IPC cameras are challenged with: `MD5` (what cameras speak)
    /// or `SHA-256`. Responses in either are accepted.
    #[arg(long, env = "FOOTFALL_DIGEST_ALGORITHM", default_value = "MD5")]
    pub digest_algorithm: String,

    /// Directory of the blob store (camera images). Unset: `<data dir>/blobs`.
    /// Several instances must share it.
    #[arg(long, env = "FOOTFALL_BLOB_DIR")]
    pub blob_dir: Option<PathBuf>,
    /// The address senders reach this server at (`https://footfall.example`),
    /// used when registering ingest URLs on a tenant's analysis server.
    #[arg(long, env = "FOOTFALL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds to wait for a remote server (an analysis server's API).
    #[arg(long, env = "FOOTFALL_REMOTE_TIMEOUT", default_value_t = 10)]
    pub remote_timeout_secs: u64,

    /// Log format: `text` for people, `json` for log collectors. The level
    /// filter comes from `RUST_LOG` (default `info`).
    #[arg(long, env = "FOOTFALL_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl Config {
    /// The embedded defaults, with data kept in `data_dir`. Tests and tools
    /// start from this and override what they need.
    pub fn embedded(data_dir: PathBuf) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: None,
            data_dir,
            redis_url: None,
            redis_prefix: "footfall".into(),
            jwt_secret: None,
            access_token_ttl_secs: 3600,
            migrate_on_start: true,
            db_max_connections: 16,
            login_rate_limit: 20,
            signup_rate_limit: 20,
            trust_forwarded_for: false,
            ingest_queue: 10_000,
            ingest_batch: 500,
            shutdown_grace_secs: 30,
            digest_realm: "footfall".into(),
            digest_nonce_ttl_secs: 3600,
            digest_algorithm: "MD5".into(),
            blob_dir: None,
            public_url: None,
            ingest_writers: 0,
            remote_timeout_secs: 10,
            log_format: LogFormat::Text,
        }
    }
}
