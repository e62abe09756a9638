//! HTTP Digest authentication (RFC 7616) as the IPC cameras use it
//! (PROTOCOLS.md §2): `qop=auth` with MD5, SHA-256 and their `-sess`
//! variants, and nonces that need no server-side table.
//!
//! A nonce is `base64url(issued ‖ random ‖ HMAC-SHA256(key, issued ‖ random)[..16])`:
//! any instance holding the key can tell a nonce it (or a sibling) issued
//! from a forged one, and how old it is. What this module cannot do alone
//! is refuse a replayed `nc`; the caller records `(nonce, nc)` pairs in a
//! store shared by every instance.
//!
//! Credentials are kept as `HA1 = H(username:realm:password)` for each hash,
//! never as the password (decision 011).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::Invalid;

/// The hash of a Digest exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hash {
    Md5,
    Sha256,
}

impl Hash {
    fn hex(self, data: &[u8]) -> String {
        match self {
            Hash::Md5 => hex(&Md5::digest(data)),
            Hash::Sha256 => hex(&Sha256::digest(data)),
        }
    }
}

/// An `algorithm` of RFC 7616 §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` parameter; absent means MD5 (RFC 7616 §3.4).
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    pub fn hash(self) -> Hash {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Hash::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => Hash::Sha256,
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

pub const USERNAME_MAX_CHARS: usize = 64;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A device's Digest credentials as stored: the username and HA1 for each
/// hash in `realm`. Changing the realm needs the passwords again.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Checks a username and password a tenant sets for a device and derives
    /// what is stored. The username may not hold `:` (it would make HA1
    /// ambiguous), quotes, backslashes or control characters.
    pub fn new(username: &str, password: &str, realm: &str) -> Result<Credentials, Invalid> {
        let username = username.trim();
        if username.is_empty() {
            return Err(Invalid::new("username", "must not be empty"));
        }
        if username.chars().count() > USERNAME_MAX_CHARS {
            return Err(Invalid::new(
                "username",
                format!("must be at most {USERNAME_MAX_CHARS} characters"),
            ));
        }
        if let Some(bad) = username
            .chars()
            .find(|c| c.is_control() || matches!(c, ':' | '"' | '\\'))
        {
            return Err(Invalid::new("username", format!("{bad:?} is not allowed")));
        }
        if password.is_empty() {
            return Err(Invalid::new("password", "must not be empty"));
        }
        if password.chars().count() > PASSWORD_MAX_CHARS {
            return Err(Invalid::new(
                "password",
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        if password.chars().any(char::is_control) {
            return Err(Invalid::new("password", "must not contain control characters"));
        }
        let secret = format!("{username}:{realm}:{password}");
        Ok(Credentials {
            username: username.to_string(),
            realm: realm.to_string(),
            ha1_md5: Hash::Md5.hex(secret.as_bytes()),
            ha1_sha256: Hash::Sha256.hex(secret.as_bytes()),
        })
    }

    fn ha1(&self, hash: Hash) -> &str {
        match hash {
            Hash::Md5 => &self.ha1_md5,
            Hash::Sha256 => &self.ha1_sha256,
        }
    }
}

/// Why an `Authorization` header is not a usable Digest response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("the Authorization header is not Digest")]
    NotDigest,
    #[error("the Digest response lacks {0}")]
    Missing(&'static str),
    #[error("unsupported Digest algorithm {0:?}; use MD5 or SHA-256")]
    Algorithm(String),
    #[error("unsupported qop {0:?}; use auth")]
    Qop(String),
    #[error("malformed Digest parameters")]
    Malformed,
}

/// The parameters of a Digest `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Algorithm,
    pub cnonce: String,
    /// The nonce count exactly as sent (it enters the hash as sent).
    pub nc: String,
    pub opaque: Option<String>,
}

/// Splits `k=v, k="v", ...` into pairs, keys lower-cased. Quoted values may
/// hold commas and backslash escapes.
fn params(s: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            if c == ',' {
                return Err(DigestError::Malformed);
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(DigestError::Malformed);
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.push(chars.next().ok_or(DigestError::Malformed)?),
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err(DigestError::Malformed),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

impl Authorization {
    /// Parses a `Digest ...` header value. `qop` must be `auth` (a request
    /// without a nonce count could be replayed unnoticed).
    pub fn parse(header: &str) -> Result<Authorization, DigestError> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(char::is_whitespace).ok_or(DigestError::NotDigest)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return Err(DigestError::NotDigest);
        }
        let mut pairs = params(rest)?;
        let mut take = |name: &'static str| {
            pairs
                .iter()
                .position(|(k, _)| k == name)
                .map(|i| pairs.swap_remove(i).1)
        };
        let username = take("username").ok_or(DigestError::Missing("username"))?;
        let realm = take("realm").ok_or(DigestError::Missing("realm"))?;
        let nonce = take("nonce").ok_or(DigestError::Missing("nonce"))?;
        let uri = take("uri").ok_or(DigestError::Missing("uri"))?;
        // Some firmware and documents split the hex digest with spaces.
        let response: String = take("response")
            .ok_or(DigestError::Missing("response"))?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let algorithm = match take("algorithm") {
            Some(a) => Algorithm::parse(&a).ok_or(DigestError::Algorithm(a))?,
            None => Algorithm::Md5,
        };
        let qop = take("qop").ok_or(DigestError::Missing("qop"))?;
        if !qop.eq_ignore_ascii_case("auth") {
            return Err(DigestError::Qop(qop));
        }
        let nc = take("nc").ok_or(DigestError::Missing("nc"))?;
        let cnonce = take("cnonce").ok_or(DigestError::Missing("cnonce"))?;
        let opaque = take("opaque");
        if nc.is_empty() || cnonce.is_empty() || nonce.is_empty() {
            return Err(DigestError::Malformed);
        }
        Ok(Authorization {
            username,
            realm,
            nonce,
            uri,
            response,
            algorithm,
            cnonce,
            nc,
            opaque,
        })
    }

    /// The response a client holding `credentials` sends for `method`.
    pub fn expected_response(&self, credentials: &Credentials, method: &str) -> String {
        let hash = self.algorithm.hash();
        let mut ha1 = credentials.ha1(hash).to_string();
        if self.algorithm.is_session() {
            ha1 = hash.hex(format!("{ha1}:{}:{}", self.nonce, self.cnonce).as_bytes());
        }
        let ha2 = hash.hex(format!("{method}:{}", self.uri).as_bytes());
        hash.hex(format!("{ha1}:{}:{}:{}:auth:{ha2}", self.nonce, self.nc, self.cnonce).as_bytes())
    }

    /// Whether the response proves knowledge of the password (constant time).
    pub fn verify(&self, credentials: &Credentials, method: &str) -> bool {
        constant_time_eq(
            self.expected_response(credentials, method).as_bytes(),
            self.response.as_bytes(),
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key nonces are signed with; derive it from a deployment secret shared
/// by every instance.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

const NONCE_BYTES: usize = 8 + 8 + 16;
/// How far a nonce's issue time may be ahead of this instance's clock
/// (clock skew between instances).
const NONCE_FUTURE_SKEW_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

impl NonceKey {
    /// Derives the nonce key from a deployment secret; the label keeps it
    /// apart from other uses of the same secret.
    pub fn derive(secret: &[u8]) -> NonceKey {
        let mut key = [0u8; 32];
        key.copy_from_slice(&Sha256::digest(
            [b"footfall digest nonce key\0".as_slice(), secret].concat(),
        ));
        NonceKey(key)
    }

    fn mac(&self, body: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(body);
        mac
    }

    /// A nonce issued at `now` (Unix seconds) with 8 random bytes.
    pub fn mint(&self, now: i64, random: [u8; 8]) -> String {
        let mut bytes = Vec::with_capacity(NONCE_BYTES);
        bytes.extend_from_slice(&now.to_be_bytes());
        bytes.extend_from_slice(&random);
        let tag = self.mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag[..16]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks a nonce's signature and age against a validity window.
    pub fn check(&self, nonce: &str, now: i64, ttl_secs: i64) -> NonceCheck {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce.trim()) else {
            return NonceCheck::Invalid;
        };
        if bytes.len() != NONCE_BYTES {
            return NonceCheck::Invalid;
        }
        let (body, tag) = bytes.split_at(16);
        if self.mac(body).verify_truncated_left(tag).is_err() {
            return NonceCheck::Invalid;
        }
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&body[..8]);
        let issued = i64::from_be_bytes(issued);
        if issued > now.saturating_add(NONCE_FUTURE_SKEW_SECS) {
            NonceCheck::Invalid
        } else if now.saturating_sub(issued) > ttl_secs {
            NonceCheck::Stale
        } else {
            NonceCheck::Fresh {
                expires_at: issued.saturating_add(ttl_secs),
            }
        }
    }
}

/// What a nonce is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this deployment and within its window.
    Fresh { expires_at: i64 },
    /// Issued by this deployment, but its window has passed.
    Stale,
    /// Not a nonce this deployment issued.
    Invalid,
}

/// A `WWW-Authenticate` challenge.
pub fn challenge(realm: &str, nonce: &str, algorithm: Algorithm, stale: bool) -> String {
    let mut s = format!(
        "Digest realm=\"{}\", qop=\"auth\", nonce=\"{nonce}\", algorithm={}",
        realm.replace('\\', "\\\\").replace('"', "\\\""),
        algorithm.name()
    );
    if stale {
        s.push_str(", stale=true");
    }
    s
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 7616 §3.9.1: user "Mufasa", password "Circle of Life".
    const RFC_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn rfc_header(algorithm: &str, response: &str) -> String {
        format!(
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
             algorithm={algorithm}, nonce=\"{RFC_NONCE}\", nc=00000001, cnonce=\"{RFC_CNONCE}\", \
             qop=auth, response=\"{response}\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        )
    }

    #[test]
    fn rfc_7616_examples_verify() {
        let creds = Credentials::new("Mufasa", "Circle of Life", "http-auth@example.org").unwrap();
        for (algorithm, response) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let auth = Authorization::parse(&rfc_header(algorithm, response)).unwrap();
            assert_eq!(auth.algorithm.name(), algorithm);
            assert!(auth.verify(&creds, "GET"), "{algorithm}");
            assert!(!auth.verify(&creds, "POST"), "{algorithm}: the method is signed");
            let wrong = Credentials::new("Mufasa", "Circle of life", "http-auth@example.org").unwrap();
            assert!(!auth.verify(&wrong, "GET"), "{algorithm}: a wrong password fails");
        }
    }

    #[test]
    fn the_vendor_documents_header_parses() {
        // As printed in the IPC document, with its space inside the response.
        let auth = Authorization::parse(
            "Digest username=\"admin\",realm=\"no auth\",nonce=\"C40Hr6NCxnvamwrO71o1zw==\",\
             uri=\"/v1/device/keepalive\",response=\"42ad032d98035f15fde4b20 13930ec06\",\
             algorithm=\"MD5\",qop=auth,nc=42,cnonce=\"bc9d806106d901b02b909a0b93538ef0\"",
        )
        .unwrap();
        assert_eq!(auth.username, "admin");
        assert_eq!(auth.realm, "no auth");
        assert_eq!(auth.nc, "42");
        assert_eq!(auth.response, "42ad032d98035f15fde4b2013930ec06");
        assert_eq!(auth.algorithm, Algorithm::Md5);
    }

    #[test]
    fn session_variants_hash_the_nonces_into_ha1() {
        let creds = Credentials::new("cam", "pw", "footfall").unwrap();
        let header = "Digest username=\"cam\", realm=\"footfall\", nonce=\"n\", uri=\"/x\", \
                      algorithm=MD5-sess, qop=auth, nc=00000001, cnonce=\"c\", response=\"00\"";
        let mut auth = Authorization::parse(header).unwrap();
        let ha1 = Hash::Md5.hex(format!("{}:n:c", creds.ha1_md5).as_bytes());
        let ha2 = Hash::Md5.hex(b"POST:/x");
        auth.response = Hash::Md5.hex(format!("{ha1}:n:00000001:c:auth:{ha2}").as_bytes());
        assert!(auth.verify(&creds, "POST"));
    }

    #[test]
    fn unusable_headers() {
        let cases = [
            ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", DigestError::NotDigest),
            ("Digest", DigestError::NotDigest),
            (
                "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", nc=1, cnonce=\"c\"",
                DigestError::Missing("qop"),
            ),
            (
                "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", qop=auth-int, nc=1, cnonce=\"c\"",
                DigestError::Qop("auth-int".into()),
            ),
            (
                "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", algorithm=SHA-512-256, qop=auth, nc=1, cnonce=\"c\"",
                DigestError::Algorithm("SHA-512-256".into()),
            ),
            ("Digest username=\"a", DigestError::Malformed),
            ("Digest username", DigestError::Malformed),
        ];
        for (header, expected) in cases {
            assert_eq!(Authorization::parse(header), Err(expected), "{header}");
        }
    }

    #[test]
    fn quoted_values_keep_commas_and_escapes() {
        let auth = Authorization::parse(
            "Digest username=\"a\\\"b\", realm=\"x, y\", nonce=\"n\", uri=\"/p?q=1,2\", response=\"AB\", \
             qop=\"auth\", nc=00000002, cnonce=\"c\"",
        )
        .unwrap();
        assert_eq!(auth.username, "a\"b");
        assert_eq!(auth.realm, "x, y");
        assert_eq!(auth.uri, "/p?q=1,2");
        assert_eq!(auth.response, "ab");
    }

    #[test]
    fn credentials_are_checked() {
        assert!(Credentials::new("admin", "secret", "r").is_ok());
        for (user, password) in [
            ("", "x"),
            ("a:b", "x"),
            ("a\"b", "x"),
            ("admin", ""),
            ("admin", "tab\there"),
            (&"u".repeat(65), "x"),
        ] {
            assert!(Credentials::new(user, password, "r").is_err(), "{user:?} {password:?}");
        }
        let c = Credentials::new(" admin ", "pw", "r").unwrap();
        assert_eq!(c.username, "admin");
        assert!(!format!("{c:?}").contains(&c.ha1_md5), "HA1 stays out of logs");
    }

    #[test]
    fn nonces_age_and_cannot_be_forged() {
        let key = NonceKey::derive(b"deployment secret");
        let nonce = key.mint(1_000_000, [7; 8]);
        assert_eq!(
            key.check(&nonce, 1_000_000, 3600),
            NonceCheck::Fresh { expires_at: 1_003_600 }
        );
        assert!(matches!(key.check(&nonce, 1_003_600, 3600), NonceCheck::Fresh { .. }));
        assert_eq!(key.check(&nonce, 1_003_601, 3600), NonceCheck::Stale);
        assert_eq!(key.check(&nonce, 999_000, 3600), NonceCheck::Invalid, "from the future");
        let other = NonceKey::derive(b"another deployment");
        assert_eq!(other.check(&nonce, 1_000_000, 3600), NonceCheck::Invalid);
        assert_eq!(
            key.check("C40Hr6NCxnvamwrO71o1zw==", 1_000_000, 3600),
            NonceCheck::Invalid
        );
        // Move the issue time forward by flipping a byte: the tag no longer matches.
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        bytes[7] ^= 1;
        assert_eq!(
            key.check(&URL_SAFE_NO_PAD.encode(bytes), 1_000_000, 3600),
            NonceCheck::Invalid
        );
    }

    #[test]
    fn challenges() {
        assert_eq!(
            challenge("foot\"fall", "abc", Algorithm::Md5, false),
            "Digest realm=\"foot\\\"fall\", qop=\"auth\", nonce=\"abc\", algorithm=MD5"
        );
        assert!(challenge("r", "abc", Algorithm::Sha256, true).ends_with("algorithm=SHA-256, stale=true"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(header in ".{0,300}") {
            let _ = Authorization::parse(&header);
        }

        #[test]
        fn nonce_checks_never_panic(nonce in ".{0,80}", now in any::<i64>()) {
            let _ = NonceKey::derive(b"k").check(&nonce, now, 3600);
        }
    }
}
