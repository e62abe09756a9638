//! The end-to-end test harness: each test gets its own server on a free port,
//! with its own storage, driven over real HTTP.
//!
//! Storage follows the environment, so the same tests run in both modes:
//! - nothing set: embedded SQLite in a temporary directory, in-process twins;
//! - `DATABASE_URL=postgres://…`: a freshly created database per test on that
//!   server, migrated from scratch; `REDIS_URL`: a key prefix per test.

pub mod camera;

use std::net::SocketAddr;

use footfall_api::{AppState, Config, build_app};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    pub config: Config,
    data: std::sync::Arc<TempDir>,
}

/// Which storage the tests run on, for messages.
pub fn storage_mode() -> &'static str {
    if std::env::var("DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// Starts a server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data = tempfile::tempdir().expect("temporary directory");
    let mut config = Config::embedded(data.path().to_path_buf());
    if let Ok(url) = std::env::var("DATABASE_URL") {
        config.database_url = Some(fresh_postgres_database(&url).await);
        config.db_max_connections = 5;
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        config.redis_url = Some(url);
        config.redis_prefix = format!("test-{}", Uuid::new_v4().simple());
    }
    adjust(&mut config);
    start(config, std::sync::Arc::new(data)).await
}

async fn start(config: Config, data: std::sync::Arc<TempDir>) -> TestApp {
    let state = AppState::connect(config.clone()).await.expect("application state");
    let app = build_app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .expect("server");
    });
    TestApp {
        addr,
        client: reqwest::Client::new(),
        state,
        config,
        data,
    }
}

impl TestApp {
    /// A second instance sharing this one's database, Redis, key prefix and
    /// signing secret, as two servers behind a load balancer would.
    pub async fn spawn_twin(&self) -> TestApp {
        start(self.config.clone(), self.data.clone()).await
    }
}

/// Creates `ff_test_<uuid>` on the server of `url` and returns its URL.
async fn fresh_postgres_database(url: &str) -> String {
    let name = format!("ff_test_{}", Uuid::new_v4().simple());
    let admin = Database::connect(url).await.expect("connect to DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    let (base, _) = url.rsplit_once('/').expect("DATABASE_URL ends with /<database>");
    format!("{base}/{name}")
}

/// A tenant made through the public API.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub token: String,
}

/// One HTTP answer: status, headers and the body parsed as JSON (or `Null`).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The body's error code, for error answers.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::answer(req.send().await.expect("request sent")).await
    }

    pub async fn answer(res: reqwest::Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Signs a new tenant up; its owner's email is unique per call.
    pub async fn signup(&self, tenant_name: &str) -> Tenant {
        let email = format!("owner-{}@example.com", Uuid::new_v4().simple());
        let a = self
            .call(
                Method::POST,
                "/api/v1/auth/signup",
                None,
                Some(json!({"tenantName": tenant_name, "email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "signup: {}", a.text);
        Tenant {
            id: a.body["tenant"]["id"].as_str().expect("tenant id").to_string(),
            user_id: a.body["user"]["id"].as_str().expect("user id").to_string(),
            email,
            token: a.body["accessToken"].as_str().expect("token").to_string(),
        }
    }

    /// Adds a user with `role` to the tenant and logs them in; returns their token.
    pub async fn add_user(&self, owner: &Tenant, role: &str) -> String {
        let email = format!("{role}-{}@example.com", Uuid::new_v4().simple());
        let a = self
            .post(
                "/api/v1/users",
                &owner.token,
                json!({"email": email, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "create user: {}", a.text);
        self.login(&email, PASSWORD).await.body["accessToken"]
            .as_str()
            .expect("token")
            .to_string()
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Creates a site and returns its id.
    pub async fn create_site(&self, token: &str, name: &str, timezone: &str) -> String {
        let a = self
            .post("/api/v1/sites", token, json!({"name": name, "timezone": timezone}))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "create site: {}", a.text);
        a.body["id"].as_str().expect("site id").to_string()
    }

    /// Binds a device and returns its JSON.
    pub async fn bind_device(&self, token: &str, sn: &str, site_id: &str, protocol: &str) -> Value {
        let a = self
            .post(
                "/api/v1/devices",
                token,
                json!({"sn": sn, "siteId": site_id, "protocol": protocol}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "bind device: {}", a.text);
        a.body
    }

    /// Runs a GraphQL operation; returns the HTTP status and the response JSON.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        self.call(
            Method::POST,
            "/graphql",
            token,
            Some(json!({"query": query, "variables": variables})),
        )
        .await
    }
}

impl TestApp {
    /// Posts a raw device body as JSON and returns the answer.
    pub async fn device(&self, path: &str, body: &str) -> Answer {
        self.device_with_type(path, body, "application/json").await
    }

    pub async fn device_with_type(&self, path: &str, body: &str, content_type: &str) -> Answer {
        let res = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("device request sent");
        Self::answer(res).await
    }

    /// A people counter's heartbeat; asserts the HTTP status is 200.
    pub async fn heartbeat(&self, sn: &str) -> Value {
        let a = self
            .device("/api/camera/heartBeat", &json!({"sn": sn, "time": now()}).to_string())
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        a.body
    }

    /// A people counter's data upload; asserts the HTTP status is 200.
    pub async fn upload(&self, body: Value) -> Value {
        let a = self.device("/api/camera/dataUpload", &body.to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        a.body
    }

    /// Footfall of a site over `[from, to)` (Unix seconds) at `granularity`.
    pub async fn footfall(&self, token: &str, site: &str, from: i64, to: i64, granularity: &str) -> Value {
        let a = self
            .get(
                &format!(
                    "/api/v1/sites/{site}/footfall?from={}&to={}&granularity={granularity}",
                    rfc3339(from),
                    rfc3339(to)
                ),
                token,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        a.body
    }
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Unix seconds as an RFC 3339 UTC string, URL-safe (`Z`, no `+`).
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("a valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A serial number no other test uses.
pub fn unique_sn() -> String {
    format!("SN{}", &Uuid::new_v4().simple().to_string()[..16].to_uppercase())
}
