//! Password hashing with Argon2id at the OWASP-recommended cost
//! (m = 19 MiB, t = 2, p = 1). Hashing runs on the blocking pool, and a
//! semaphore bounds how many run at once so a login flood cannot exhaust
//! memory (each hash holds 19 MiB while it runs).

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use footfall_domain::{Error, Result};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl PasswordHasher {
    pub fn new(max_concurrent: usize) -> Self {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    /// Hashes a new password into a PHC string with a random salt.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.blocking(move || {
            argon2()?
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(e.to_string()))
        })
        .await
    }

    /// Checks `password` against a stored PHC string in constant time. With no
    /// stored hash (unknown user) it checks against a fixed dummy hash, so the
    /// answer takes as long as for a known user with a wrong password.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        let known = stored.is_some();
        let matches = self
            .blocking(move || {
                let stored = match stored {
                    Some(s) => s,
                    None => dummy_hash()?.to_owned(),
                };
                let parsed = PasswordHash::new(&stored).map_err(|e| Error::internal(e.to_string()))?;
                Ok(argon2()?.verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::internal(e.to_string()))?
    }
}

/// A hash of a random password nobody knows, computed once per process.
fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let secret: [u8; 32] = rand::random();
    let hash = argon2()?
        .hash_password(&secret)
        .map_err(|e| Error::internal(e.to_string()))?
        .to_string();
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let hasher = PasswordHasher::new(2);
        let a = hasher.hash("correct horse").await.unwrap();
        let b = hasher.hash("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(hasher.verify("correct horse", Some(&a)).await.unwrap());
        assert!(!hasher.verify("correct horsf", Some(&a)).await.unwrap());
        assert!(!hasher.verify("", Some(&a)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new(1);
        assert!(!hasher.verify("anything", None).await.unwrap());
    }
}
