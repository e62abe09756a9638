//! Access tokens: HS256 JWTs carrying the user, tenant and role. Only HS256 is
//! accepted, so `alg: none` and algorithm-confusion tokens fail verification.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use footfall_domain::{Error, Principal, Result, Role, TenantId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ISSUER: &str = "footfall";
/// Shortest secret accepted from the environment (256 bits, as HS256 wants).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    tid: Uuid,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: Duration,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Tokens {
    pub fn new(secret: &SecretSlice<u8>, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Tokens {
            encoding: EncodingKey::from_secret(secret.expose_secret()),
            decoding: DecodingKey::from_secret(secret.expose_secret()),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, who: &Principal) -> Result<AccessToken> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).map_err(Error::internal)?;
        let claims = Claims {
            sub: who.user.as_uuid(),
            tid: who.tenant.as_uuid(),
            role: who.role,
            iss: ISSUER.to_string(),
            iat: now,
            exp: now + ttl,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)?;
        Ok(AccessToken {
            token,
            expires_in: self.ttl,
        })
    }

    /// Checks signature, algorithm, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<Principal> {
        self.verify_session(token).map(|(who, _)| who)
    }

    /// Like [`Tokens::verify`], with the instant the token expires, for
    /// long-lived connections that must end with it.
    pub fn verify_session(&self, token: &str) -> Result<(Principal, chrono::DateTime<Utc>)> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "the access token has expired; log in again",
                _ => "the access token is not valid",
            };
            Error::Unauthenticated(why.to_string())
        })?;
        let who = Principal {
            tenant: TenantId::from_uuid(data.claims.tid),
            user: UserId::from_uuid(data.claims.sub),
            role: data.claims.role,
        };
        let expires = chrono::DateTime::from_timestamp(data.claims.exp, 0).unwrap_or_else(Utc::now);
        Ok((who, expires))
    }
}

/// Where the signing secret came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    /// Read from the data directory, generated there on first start.
    DataDir {
        generated: bool,
    },
}

/// Uses `from_env` when given (at least 32 bytes), else the secret kept in
/// `data_dir/jwt-secret`, creating it (mode 0600) on first use.
pub fn load_secret(from_env: Option<&str>, data_dir: &Path) -> Result<(SecretSlice<u8>, SecretSource)> {
    if let Some(s) = from_env {
        if s.len() < MIN_SECRET_BYTES {
            return Err(Error::internal(format!(
                "FOOTFALL_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        return Ok((SecretSlice::from(s.as_bytes().to_vec()), SecretSource::Environment));
    }
    let path = data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = STANDARD
                .decode(text.trim())
                .map_err(|e| Error::internal(format!("{} is not base64: {e}", path.display())))?;
            if bytes.len() < MIN_SECRET_BYTES {
                return Err(Error::internal(format!("{} holds too short a secret", path.display())));
            }
            Ok((SecretSlice::from(bytes), SecretSource::DataDir { generated: false }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 64] = rand::random();
            write_private(&path, STANDARD.encode(bytes).as_bytes())
                .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?;
            Ok((
                SecretSlice::from(bytes.to_vec()),
                SecretSource::DataDir { generated: true },
            ))
        }
        Err(e) => Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &[u8], ttl: Duration) -> Tokens {
        Tokens::new(&SecretSlice::from(secret.to_vec()), ttl)
    }

    fn alice() -> Principal {
        Principal {
            tenant: TenantId::from_uuid(Uuid::now_v7()),
            user: UserId::from_uuid(Uuid::now_v7()),
            role: Role::Admin,
        }
    }

    #[test]
    fn round_trip() {
        let t = tokens(&[7; 32], Duration::from_secs(900));
        let who = alice();
        let issued = t.issue(&who).unwrap();
        assert_eq!(t.verify(&issued.token).unwrap(), who);
    }

    #[test]
    fn rejects_other_secret_tampering_expiry_and_alg_none() {
        let t = tokens(&[7; 32], Duration::from_secs(900));
        let token = t.issue(&alice()).unwrap().token;

        assert!(tokens(&[8; 32], Duration::from_secs(900)).verify(&token).is_err());

        // Flip the role inside the payload, keep the signature.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(b64.decode(&parts[1]).unwrap()).unwrap();
        parts[1] = b64.encode(payload.replace("\"admin\"", "\"owner\""));
        assert!(t.verify(&parts.join(".")).is_err());

        let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(t.verify(&format!("{none_header}.{}.", parts[1])).is_err());

        let expired = tokens(&[7; 32], Duration::ZERO);
        let old = Claims {
            sub: Uuid::now_v7(),
            tid: Uuid::now_v7(),
            role: Role::Owner,
            iss: ISSUER.into(),
            iat: Utc::now().timestamp() - 120,
            exp: Utc::now().timestamp() - 60,
        };
        let stale = encode(&Header::new(Algorithm::HS256), &old, &expired.encoding).unwrap();
        match expired.verify(&stale) {
            Err(Error::Unauthenticated(msg)) => assert!(msg.contains("expired"), "{msg}"),
            other => panic!("{other:?}"),
        }
        assert!(t.verify("").is_err());
        assert!(t.verify("a.b.c").is_err());
    }

    #[test]
    fn secret_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = load_secret(None, dir.path()).unwrap();
        assert_eq!(source, SecretSource::DataDir { generated: true });
        let (again, source) = load_secret(None, dir.path()).unwrap();
        assert_eq!(source, SecretSource::DataDir { generated: false });
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert!(load_secret(Some("short"), dir.path()).is_err());
        let (env, source) = load_secret(Some(&"k".repeat(32)), dir.path()).unwrap();
        assert_eq!(source, SecretSource::Environment);
        assert_eq!(env.expose_secret(), "k".repeat(32).as_bytes());
    }
}
