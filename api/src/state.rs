//! The application context handed to every handler and resolver.

use std::sync::Arc;
use std::time::Duration;

use footfall_domain::digest::{Algorithm, Credentials, NonceKey};
use footfall_domain::{Error, Result};
use footfall_infra::blobs::Blobs;
use footfall_infra::bus::Bus;
use footfall_infra::db::sqlite_url;
use footfall_infra::directory::Directory;
use footfall_infra::nonces::NonceCounts;
use footfall_infra::password::PasswordHasher;
use footfall_infra::presence::{Presence, SeenLog};
use footfall_infra::ratelimit::{Limit, RateLimiter};
use footfall_infra::redis::Redis;
use footfall_infra::tokens::{SecretSource, Tokens, load_secret};
use footfall_infra::writer::Writer;
use footfall_infra::{Db, Engine};

use crate::config::Config;
use crate::services::live::Announcer;

/// Everything a request handler needs. Cloned for every request (axum's
/// `State`), so it is one `Arc`: a clone is a reference count, not a copy
/// of connection managers, keys and maps.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    /// `None` in embedded mode, where the in-process twins below are used.
    pub redis: Option<Redis>,
    pub presence: Presence,
    /// Last contact waiting to be written to SQL in batches.
    pub seen_log: Arc<SeenLog>,
    pub limiter: RateLimiter,
    pub bus: Bus,
    /// Serial number → device, cached and invalidated across instances.
    pub directory: Directory,
    /// Group-commit writer for device uploads.
    pub writer: Writer,
    /// Tells live subscribers which sites' counts moved.
    pub announcer: Arc<Announcer>,
    pub tokens: Tokens,
    pub passwords: PasswordHasher,
    /// Signs and checks Digest nonces; the same on every instance.
    pub nonce_key: NonceKey,
    /// Nonce counts seen, for refusing replayed Digest requests.
    pub nonce_counts: NonceCounts,
    /// The algorithm Digest challenges offer.
    pub digest_algorithm: Algorithm,
    /// Camera images.
    pub blobs: Blobs,
}

impl AppState {
    /// Opens every backing service named by `config`, applying migrations
    /// first if configured to.
    pub async fn connect(mut config: Config) -> Result<AppState> {
        // An empty variable (`DATABASE_URL=` in a compose file) means unset.
        for value in [&mut config.database_url, &mut config.redis_url, &mut config.jwt_secret] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *value = None;
            }
        }
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            Error::internal(format!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            ))
        })?;

        let url = match &config.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&config.data_dir),
        };
        // SQLite serialises writers anyway; a few connections serve the readers.
        let db = Db::connect(&url, config.db_max_connections).await?;
        if config.migrate_on_start {
            db.migrate().await?;
        }

        let redis = match &config.redis_url {
            Some(url) => Some(Redis::connect(url, &config.redis_prefix)?),
            None => None,
        };
        let presence = redis.clone().map_or_else(Presence::local, Presence::redis);
        let seen_log = Arc::new(SeenLog::default());
        SeenLog::spawn_flusher(&seen_log, db.clone());
        let limiter = redis.clone().map_or_else(RateLimiter::local, RateLimiter::Redis);
        let bus = redis.clone().map_or_else(Bus::local, Bus::redis);
        let directory = Directory::new(bus.clone());
        let announcer = Announcer::start(bus.clone());
        let writers = config.ingest_writers.max(1);
        let writer = Writer::start(db.clone(), config.ingest_queue, config.ingest_batch, writers).await?;

        let (secret, source) = load_secret(config.jwt_secret.as_deref(), &config.data_dir)?;
        match source {
            SecretSource::Environment => {}
            SecretSource::DataDir { generated } => tracing::warn!(
                path = %config.data_dir.join("jwt-secret").display(),
                generated,
                "FOOTFALL_JWT_SECRET is not set; signing tokens with the secret kept in the data \
                 directory. Set it when running more than one instance."
            ),
        }
        let tokens = Tokens::new(&secret, Duration::from_secs(config.access_token_ttl_secs));
        let nonce_key = NonceKey::derive(secrecy::ExposeSecret::expose_secret(&secret));
        let nonce_counts = redis.clone().map_or_else(NonceCounts::local, NonceCounts::Redis);
        let digest_algorithm = match Algorithm::parse(&config.digest_algorithm) {
            Some(a @ (Algorithm::Md5 | Algorithm::Sha256)) => a,
            _ => {
                return Err(Error::invalid(
                    "FOOTFALL_DIGEST_ALGORITHM",
                    format!("{:?} is not MD5 or SHA-256", config.digest_algorithm),
                ));
            }
        };
        if config.digest_realm.trim().is_empty() {
            return Err(Error::invalid("FOOTFALL_DIGEST_REALM", "must not be empty"));
        }
        let blobs = Blobs::local(config.blob_dir.clone().unwrap_or_else(|| config.data_dir.join("blobs")));
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);

        tracing::info!(
            database = db.engine().as_str(),
            redis = redis.is_some(),
            "storage ready"
        );
        Ok(AppState(Arc::new(Services {
            config: Arc::new(config),
            db,
            redis,
            presence,
            seen_log,
            limiter,
            bus,
            directory,
            writer,
            announcer,
            tokens,
            passwords: PasswordHasher::new(cpus),
            nonce_key,
            nonce_counts,
            digest_algorithm,
            blobs,
        })))
    }

    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// Digest credentials in this deployment's realm.
    pub fn credentials(&self, username: &str, password: &str) -> Result<Credentials> {
        Ok(Credentials::new(username, password, &self.config.digest_realm)?)
    }

    pub fn login_limit(&self) -> Limit {
        Limit {
            max: self.config.login_rate_limit,
            window: Duration::from_secs(15 * 60),
        }
    }

    pub fn signup_limit(&self) -> Limit {
        Limit {
            max: self.config.signup_rate_limit,
            window: Duration::from_secs(3600),
        }
    }
}
