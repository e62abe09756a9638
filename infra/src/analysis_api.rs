//! A client of a traffic analysis server's own API (PROTOCOLS.md §3,
//! `/api/account/login`, `/api/interface/*`): used to register the
//! platform's ingest URL on the tenant's server. Every call has a timeout;
//! every failure says what the remote server did.

use std::time::Duration;

use serde_json::{Value, json};

/// What went wrong talking to the remote server.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{0} is not an http:// URL the platform can call")]
    BadUrl(String),
    #[error("{call}: no answer within {seconds} s")]
    Timeout { call: &'static str, seconds: u64 },
    #[error("{call}: could not connect: {reason}")]
    Unreachable { call: &'static str, reason: String },
    #[error("{call}: HTTP {status}: {body}")]
    Status {
        call: &'static str,
        status: u16,
        body: String,
    },
    #[error("{call}: refused: {message}")]
    Refused { call: &'static str, message: String },
    #[error("{call}: unexpected answer: {body}")]
    Unexpected { call: &'static str, body: String },
}

/// One receiving interface configured on the remote server.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteInterface {
    pub id: i64,
    pub business_type: i64,
    pub url: String,
    pub raw: Value,
}

/// A logged-in session with a remote analysis server.
pub struct AnalysisApi {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
    token: Option<String>,
}

fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

impl AnalysisApi {
    pub fn new(base_url: &str, timeout: Duration) -> Result<AnalysisApi, RemoteError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let host = base.strip_prefix("http://").unwrap_or_default();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(RemoteError::BadUrl(base_url.to_string()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| RemoteError::Unreachable {
                call: "client",
                reason: e.to_string(),
            })?;
        Ok(AnalysisApi {
            http,
            base,
            timeout,
            token: None,
        })
    }

    async fn call(&self, call: &'static str, path: &str, body: Value) -> Result<Value, RemoteError> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = &self.token {
            req = req.header("token", token);
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                RemoteError::Timeout {
                    call,
                    seconds: self.timeout.as_secs(),
                }
            } else {
                RemoteError::Unreachable {
                    call,
                    reason: e.to_string(),
                }
            }
        };
        let res = req.send().await.map_err(transport)?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(transport)?;
        if status != 200 {
            return Err(RemoteError::Status {
                call,
                status,
                body: shorten(&text),
            });
        }
        let value: Value = serde_json::from_str(&text).map_err(|_| RemoteError::Unexpected {
            call,
            body: shorten(&text),
        })?;
        // `code` 0 (or absent) is success; anything else carries a message.
        match value.get("code").and_then(Value::as_i64) {
            None | Some(0) => Ok(value),
            Some(code) => Err(RemoteError::Refused {
                call,
                message: value
                    .get("resultMsg")
                    .or_else(|| value.get("msg"))
                    .or_else(|| value.get("message"))
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("code {code}"), |m| format!("code {code}: {m}")),
            }),
        }
    }

    /// `POST /api/account/login`; keeps the session token.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<(), RemoteError> {
        const CALL: &str = "login";
        let answer = self
            .call(
                CALL,
                "/api/account/login",
                json!({"username": username, "password": password}),
            )
            .await?;
        let token = answer
            .pointer("/data/token")
            .or_else(|| answer.get("token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RemoteError::Unexpected {
                call: CALL,
                body: "no data.token in the answer".into(),
            })?;
        self.token = Some(token.to_string());
        Ok(())
    }

    /// `POST /api/interface/list`: the receiving interfaces configured.
    pub async fn list(&self) -> Result<Vec<RemoteInterface>, RemoteError> {
        let answer = self.call("list interfaces", "/api/interface/list", json!({})).await?;
        let items = ["/data", "/data/list", "/data/records", "/data/rows", "/list"]
            .iter()
            .find_map(|p| answer.pointer(p).and_then(Value::as_array))
            .cloned()
            .unwrap_or_default();
        Ok(items
            .into_iter()
            .filter_map(|raw| {
                let id = raw.get("id").and_then(as_i64)?;
                let business_type = raw.get("businessType").and_then(as_i64).unwrap_or_default();
                let url = raw.get("url").and_then(Value::as_str).unwrap_or_default().to_string();
                Some(RemoteInterface {
                    id,
                    business_type,
                    url,
                    raw,
                })
            })
            .collect())
    }

    /// `POST /api/interface/add`.
    pub async fn add(&self, interface: &Value) -> Result<Option<i64>, RemoteError> {
        let answer = self
            .call("add interface", "/api/interface/add", interface.clone())
            .await?;
        Ok(answer
            .get("data")
            .and_then(|d| d.get("id").and_then(as_i64).or_else(|| as_i64(d))))
    }

    /// `POST /api/interface/edit`.
    pub async fn edit(&self, id: i64, interface: &Value) -> Result<(), RemoteError> {
        let mut body = interface.clone();
        if let Value::Object(map) = &mut body {
            map.insert("id".into(), json!(id));
        }
        self.call("edit interface", "/api/interface/edit", body).await?;
        Ok(())
    }

    /// `POST /api/interface/delete`.
    pub async fn delete(&self, id: i64) -> Result<(), RemoteError> {
        self.call("delete interface", "/api/interface/delete", json!({"id": id}))
            .await?;
        Ok(())
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
