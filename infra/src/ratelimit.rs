//! Fixed-window rate limits (login attempts per account, signups per client
//! address), counted in Redis so every instance shares the count, or in
//! process memory in embedded mode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use footfall_domain::{Error, Result};

use crate::presence::poisoned;
use crate::redis::{Redis, unavailable};

/// How many hits a subject may make per window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

#[derive(Clone)]
pub enum RateLimiter {
    Redis(Redis),
    Local(Arc<Mutex<HashMap<String, (u64, u32)>>>),
}

/// Local windows kept before stale ones are swept.
const LOCAL_SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn local() -> Self {
        RateLimiter::Local(Arc::default())
    }

    /// Counts one hit of `subject` in `bucket`. Past the limit it fails with
    /// `RateLimited` and the seconds until the window ends. If Redis is down
    /// the hit is allowed: a missing limiter must not lock everyone out.
    pub async fn hit(&self, bucket: &str, subject: &str, limit: Limit) -> Result<()> {
        let window_secs = limit.window.as_secs().max(1);
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        let window = now / window_secs;
        let retry_after_secs = (window + 1) * window_secs - now;
        let count = match self {
            RateLimiter::Redis(r) => {
                let key = r.key("rl", bucket, format_args!("{:016x}:{window}", fnv1a(subject)));
                let mut conn = r.conn();
                let counted: Result<(u32,)> = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .expire(&key, i64::try_from(window_secs).unwrap_or(i64::MAX))
                    .ignore()
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable);
                match counted {
                    Ok((count,)) => count,
                    Err(e) => {
                        tracing::warn!(error = %e, bucket, "rate limiter unavailable; allowing");
                        return Ok(());
                    }
                }
            }
            RateLimiter::Local(map) => {
                let mut map = map.lock().map_err(poisoned)?;
                if map.len() >= LOCAL_SWEEP_AT {
                    map.retain(|_, (w, _)| *w == window);
                }
                let entry = map.entry(format!("{bucket}:{subject}")).or_insert((window, 0));
                if entry.0 != window {
                    *entry = (window, 0);
                }
                entry.1 += 1;
                entry.1
            }
        };
        if count > limit.max {
            Err(Error::RateLimited { retry_after_secs })
        } else {
            Ok(())
        }
    }
}

/// A stable 64-bit hash, so subjects such as email addresses are not stored
/// in Redis in the clear.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_limit_counts_per_subject() {
        let limiter = RateLimiter::local();
        let limit = Limit {
            max: 3,
            window: Duration::from_secs(3600),
        };
        for _ in 0..3 {
            limiter.hit("login", "a@x.io", limit).await.unwrap();
        }
        match limiter.hit("login", "a@x.io", limit).await {
            Err(Error::RateLimited { retry_after_secs }) => assert!(retry_after_secs <= 3600),
            other => panic!("{other:?}"),
        }
        limiter.hit("login", "b@x.io", limit).await.unwrap();
        limiter.hit("signup", "a@x.io", limit).await.unwrap();
    }
}
