//! Playing an IPC camera: a Digest client written from RFC 7616 (not the
//! server's code, so a shared mistake cannot hide), TLV bodies built byte by
//! byte, and requests signed the way a camera signs them.

use md5::Md5;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{Answer, TestApp};

/// A `WWW-Authenticate: Digest ...` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub algorithm: String,
    pub qop: String,
    pub stale: bool,
}

impl Challenge {
    /// Parses the challenge of a 401 answer; panics if there is none.
    pub fn of(answer: &Answer) -> Challenge {
        let header = answer
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no WWW-Authenticate in {:?}: {}", answer.status, answer.text));
        Challenge::parse(header)
    }

    pub fn parse(header: &str) -> Challenge {
        let rest = header.strip_prefix("Digest ").expect("a Digest challenge");
        let mut fields = std::collections::HashMap::new();
        for part in rest.split(", ") {
            let (k, v) = part.split_once('=').expect("k=v");
            fields.insert(k.to_string(), v.trim_matches('"').to_string());
        }
        Challenge {
            realm: fields["realm"].clone(),
            nonce: fields["nonce"].clone(),
            algorithm: fields.get("algorithm").cloned().unwrap_or_else(|| "MD5".into()),
            qop: fields["qop"].clone(),
            stale: fields.get("stale").is_some_and(|s| s == "true"),
        }
    }
}

fn h(algorithm: &str, data: &str) -> String {
    let bytes: Vec<u8> = if algorithm.to_ascii_uppercase().starts_with("SHA-256") {
        Sha256::digest(data.as_bytes()).to_vec()
    } else {
        Md5::digest(data.as_bytes()).to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of a Digest response a test may want to get wrong.
#[derive(Debug, Clone)]
pub struct Signer {
    pub username: String,
    pub password: String,
    pub realm: String,
    pub nonce: String,
    pub algorithm: String,
    pub cnonce: String,
}

impl Signer {
    pub fn new(username: &str, password: &str, challenge: &Challenge) -> Signer {
        Signer {
            username: username.into(),
            password: password.into(),
            realm: challenge.realm.clone(),
            nonce: challenge.nonce.clone(),
            algorithm: challenge.algorithm.clone(),
            cnonce: "0a4f113b".into(),
        }
    }

    /// The `Authorization` header for `method uri` with nonce count `nc`.
    pub fn authorization(&self, method: &str, uri: &str, nc: u32) -> String {
        let a = &self.algorithm;
        let nc = format!("{nc:08x}");
        let ha1 = h(a, &format!("{}:{}:{}", self.username, self.realm, self.password));
        let ha2 = h(a, &format!("{method}:{uri}"));
        let response = h(a, &format!("{ha1}:{}:{nc}:{}:auth:{ha2}", self.nonce, self.cnonce));
        format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm={a}, \
             response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{}\"",
            self.username, self.realm, self.nonce, self.cnonce
        )
    }
}

/// A camera: its id, credentials, and the nonce and count it is at.
#[derive(Debug, Clone)]
pub struct Camera {
    pub sn: String,
    pub username: String,
    pub password: String,
    pub signer: Option<Signer>,
    pub nc: u32,
}

impl Camera {
    pub fn new(sn: &str, username: &str, password: &str) -> Camera {
        Camera {
            sn: sn.into(),
            username: username.into(),
            password: password.into(),
            signer: None,
            nc: 0,
        }
    }
}

impl TestApp {
    /// One request as a camera sends it, signed with `authorization` if given.
    pub async fn camera_request(
        &self,
        method: Method,
        path: &str,
        sn: Option<&str>,
        authorization: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json;charset=utf-8")
            .body(body);
        if let Some(sn) = sn {
            req = req.header("User-Identify", sn);
        }
        if let Some(auth) = authorization {
            req = req.header("authorization", auth);
        }
        Self::answer(req.send().await.expect("camera request sent")).await
    }

    /// A request as a camera makes it: with its current nonce if it has
    /// one, answering a challenge (or a stale nonce) once, as cameras do.
    pub async fn camera_send(&self, camera: &mut Camera, method: Method, path: &str, body: Vec<u8>) -> Answer {
        for _ in 0..2 {
            let auth = camera.signer.as_ref().map(|s| {
                camera.nc += 1;
                s.authorization(method.as_str(), path, camera.nc)
            });
            let a = self
                .camera_request(method.clone(), path, Some(&camera.sn), auth.as_deref(), body.clone())
                .await;
            if a.status != StatusCode::UNAUTHORIZED {
                return a;
            }
            let challenge = Challenge::of(&a);
            camera.signer = Some(Signer::new(&camera.username, &camera.password, &challenge));
            camera.nc = 0;
        }
        panic!("camera {} still refused after answering a challenge", camera.sn)
    }

    /// A keepalive; asserts success and returns the answer's JSON.
    pub async fn keepalive(&self, camera: &mut Camera) -> Value {
        let body = json!({"method": "keepalive", "param": {"deviceId": camera.sn, "channelNum": 0, "deviceName": "HD IPC", "time": "2026-11-21 09:00:00"}});
        let a = self
            .camera_send(
                camera,
                Method::GET,
                "/v1/device/keepalive",
                body.to_string().into_bytes(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);
        a.body
    }

    /// A JSON report to `path`; returns the answer.
    pub async fn camera_report(&self, camera: &mut Camera, path: &str, body: &Value) -> Answer {
        self.camera_send(camera, Method::POST, path, body.to_string().into_bytes())
            .await
    }

    /// Binds an IPC camera with credentials; returns the device JSON.
    pub async fn bind_camera(&self, token: &str, site: &str, camera: &Camera) -> Value {
        let a = self
            .post(
                "/api/v1/devices",
                token,
                json!({"sn": camera.sn, "siteId": site, "protocol": "ipc", "username": camera.username, "password": camera.password}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "bind camera: {}", a.text);
        a.body
    }
}

/// TLV bodies, built by hand.
pub mod tlv {
    pub fn field(tag: u32, value: &[u8]) -> Vec<u8> {
        let mut out = tag.to_be_bytes().to_vec();
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    pub fn record(section: &[u8; 4], fields: &[Vec<u8>]) -> Vec<u8> {
        let inner: Vec<u8> = fields.concat();
        let mut out = section.to_vec();
        out.extend_from_slice(&(inner.len() as u32).to_be_bytes());
        out.extend_from_slice(&inner);
        out
    }

    /// A customer-counter record: target 5, PTS (local wall clock, ms), counts.
    pub fn counts(device_id: &str, local_ms: i64, r#in: u32, out: u32, pass: u32, keep: u32) -> Vec<u8> {
        record(
            b"META",
            &[
                field(0x1, &5u32.to_be_bytes()),
                field(0x2, b"people-flow v2"),
                field(0x3, device_id.as_bytes()),
                field(0x4, &0u32.to_be_bytes()),
                field(0x5, &(local_ms as u64).to_be_bytes()),
                field(0x40001, &r#in.to_be_bytes()),
                field(0x40002, &out.to_be_bytes()),
                field(0x40003, &pass.to_be_bytes()),
                field(0x40004, &keep.to_be_bytes()),
                field(0x7777, b"a tag the platform does not know"),
            ],
        )
    }
}
