//! Nonce counts seen per Digest nonce, so a captured request cannot be
//! replayed (PROTOCOLS.md §2). In Redis every instance sees the same record;
//! in process memory in embedded mode. Entries live as long as their nonce.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use footfall_domain::Result;

use crate::presence::poisoned;
use crate::redis::{Redis, unavailable};

/// Nonce → (kept until, Unix seconds; counts seen).
type Seen = HashMap<String, (i64, HashSet<String>)>;

#[derive(Clone)]
pub enum NonceCounts {
    Redis(Redis),
    Local(Arc<Mutex<Seen>>),
}

/// Local nonces kept before expired ones are swept.
const LOCAL_SWEEP_AT: usize = 10_000;
/// Kept a little past the nonce's expiry, for clock skew between instances.
const GRACE_SECS: i64 = 300;

impl NonceCounts {
    pub fn local() -> Self {
        NonceCounts::Local(Arc::default())
    }

    /// Records that `nc` was used with `nonce`, valid until `expires_at`
    /// (Unix seconds). `false` when it had been used before: a replay.
    /// Fails when Redis is unreachable: a replay check that cannot be made
    /// refuses the request rather than letting it through.
    pub async fn first_use(&self, nonce: &str, nc: &str, expires_at: i64) -> Result<bool> {
        let keep_secs = (expires_at - Utc::now().timestamp()).max(0) + GRACE_SECS;
        match self {
            NonceCounts::Redis(r) => {
                let key = r.key("dnc", "digest", nonce);
                let mut conn = r.conn();
                let (added,): (u32,) = redis::pipe()
                    .atomic()
                    .sadd(&key, nc)
                    .expire(&key, keep_secs)
                    .ignore()
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                Ok(added == 1)
            }
            NonceCounts::Local(map) => {
                let now = Utc::now().timestamp();
                let mut map = map.lock().map_err(poisoned)?;
                if map.len() >= LOCAL_SWEEP_AT {
                    map.retain(|_, (until, _)| *until > now);
                }
                let (until, seen) = map.entry(nonce.to_string()).or_default();
                *until = now + keep_secs;
                Ok(seen.insert(nc.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_count_is_accepted_once_per_nonce() {
        let counts = NonceCounts::local();
        let until = Utc::now().timestamp() + 3600;
        assert!(counts.first_use("n1", "00000001", until).await.unwrap());
        assert!(counts.first_use("n1", "00000002", until).await.unwrap());
        assert!(!counts.first_use("n1", "00000001", until).await.unwrap(), "replayed");
        assert!(
            counts.first_use("n2", "00000001", until).await.unwrap(),
            "another nonce"
        );
    }
}
