//! The shared Redis connection and the one place its keys are built.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use footfall_domain::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A multiplexed, self-reconnecting connection; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").field("prefix", &self.prefix).finish()
    }
}

impl Redis {
    /// Opens a connection manager to `url`. It connects lazily and reconnects
    /// by itself, so a Redis that is down degrades features instead of
    /// stopping the server. Every key starts with `prefix`.
    pub fn connect(url: &str, prefix: &str) -> Result<Redis> {
        let client = redis::Client::open(url).map_err(|e| Error::internal(format!("REDIS_URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = client.get_connection_manager_lazy(config).map_err(unavailable)?;
        Ok(Redis {
            client,
            conn,
            prefix: Arc::from(prefix),
        })
    }

    /// `{prefix}:{kind}:{{scope}}:{id}`. The scope (usually a tenant) is a hash
    /// tag, so one tenant's keys share a Redis Cluster slot and can be read
    /// together with MGET.
    pub fn key(&self, kind: &str, scope: impl Display, id: impl Display) -> String {
        format!("{}:{kind}:{{{scope}}}:{id}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A dedicated connection for subscribing to channels.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub> {
        self.client.get_async_pubsub().await.map_err(unavailable)
    }

    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}

pub(crate) fn unavailable(e: redis::RedisError) -> Error {
    Error::unavailable(e)
}
