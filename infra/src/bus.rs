//! Messages between instances: cache invalidations and live updates. With
//! Redis every instance publishes to and hears from Redis pub/sub; embedded,
//! a broadcast channel in the process plays the same part.
//!
//! Delivery is best effort, as pub/sub is: an instance that loses its Redis
//! subscription hears a [`Message::RESYNC`] message when it is back, so caches
//! can drop everything they might have missed invalidations for.

use std::time::Duration;

use footfall_domain::Result;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::redis::{Redis, unavailable};

/// How many messages a slow subscriber may fall behind before it misses some.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: String,
}

impl Message {
    /// Heard after the subscription to Redis was (re)established.
    pub const RESYNC: &'static str = "bus.resync";
}

#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Message>,
    redis: Option<Redis>,
}

impl Bus {
    pub fn local() -> Bus {
        Bus {
            local: broadcast::channel(CAPACITY).0,
            redis: None,
        }
    }

    /// A bus over Redis pub/sub. Spawns the task that listens to Redis and
    /// forwards to this process's subscribers, reconnecting as needed.
    pub fn redis(redis: Redis) -> Bus {
        let local = broadcast::channel(CAPACITY).0;
        tokio::spawn(listen(redis.clone(), local.clone()));
        Bus {
            local,
            redis: Some(redis),
        }
    }

    fn channel(redis: &Redis, topic: &str) -> String {
        format!("{}:bus:{topic}", redis.prefix())
    }

    /// Publishes to every instance, this one included. If Redis cannot be
    /// reached the message still reaches this instance.
    pub async fn publish(&self, topic: &str, payload: &str) -> Result<()> {
        self.publish_all(topic, &[payload.to_string()]).await
    }

    /// Publishes several messages on one topic to every instance, in one
    /// round trip to Redis; if Redis cannot be reached they still reach this
    /// instance.
    pub async fn publish_all(&self, topic: &str, payloads: &[String]) -> Result<()> {
        if payloads.is_empty() {
            return Ok(());
        }
        if let Some(redis) = &self.redis {
            let channel = Self::channel(redis, topic);
            let mut pipe = redis::pipe();
            for payload in payloads {
                pipe.publish(&channel, payload).ignore();
            }
            let mut conn = redis.conn();
            match pipe.query_async::<()>(&mut conn).await.map_err(unavailable) {
                Ok(()) => return Ok(()),
                Err(e) => tracing::warn!(error = %e, topic, "cannot publish to Redis; delivering locally only"),
            }
        }
        // No subscriber is not an error.
        for payload in payloads {
            let _ = self.local.send(Message {
                topic: topic.to_string(),
                payload: payload.clone(),
            });
        }
        Ok(())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Message> {
        self.local.subscribe()
    }
}

async fn listen(redis: Redis, local: broadcast::Sender<Message>) {
    let pattern = format!("{}:bus:*", redis.prefix());
    let strip = pattern.len() - 1;
    let mut delay = Duration::from_millis(100);
    loop {
        match redis.pubsub().await {
            Ok(mut pubsub) => match pubsub.psubscribe(&pattern).await.map_err(unavailable) {
                Ok(()) => {
                    delay = Duration::from_millis(100);
                    let _ = local.send(Message {
                        topic: Message::RESYNC.into(),
                        payload: String::new(),
                    });
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let topic = msg.get_channel_name().get(strip..).unwrap_or_default().to_string();
                        let payload: String = msg.get_payload().unwrap_or_default();
                        let _ = local.send(Message { topic, payload });
                    }
                    tracing::warn!("Redis subscription lost; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to Redis"),
            },
            Err(e) => tracing::debug!(error = %e, "cannot connect to Redis for pub/sub"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
