//! `footfall-querybench`: footfall query latency at a year of data.
//!
//! Loads a tenant with `--devices` people counters over `--sites` sites (in
//! several timezones, :30 and :45 zones among them) and `--days` of 5-minute
//! add-mode samples into Postgres, derives the rollups with the product's own
//! `rollups rebuild`, then starts the real server in process and times, over
//! HTTP with a bearer token, the queries a dashboard makes:
//!
//! 1. a year of DAY buckets for all sites (`GET /api/v1/footfall`);
//! 2. a week of HOUR buckets for one site;
//! 3. a day of QUARTER_HOUR buckets for one site.
//!
//! ```sh
//! cargo run --release -p footfall-bench --bin footfall-querybench -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/footfall_bench
//! ```
//!
//! The database is created if missing and kept: a second run with the same
//! URL finds the data and skips the load (`--reload` forces it).

use std::net::SocketAddr;
use std::time::Instant;

use clap::Parser;
use footfall_api::{AppState, Config, build_app};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(about = "Footfall query latency at a year of data")]
struct Args {
    /// Postgres URL of the benchmark database (created if missing).
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 100)]
    devices: usize,
    #[arg(long, default_value_t = 10)]
    sites: usize,
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Timed requests per query (after 10 warm-up requests).
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Load the data again even if the database has it.
    #[arg(long)]
    reload: bool,
}

const EMAIL: &str = "querybench@footfall.invalid";
const PASSWORD: &str = "querybench password";
const ZONES: [&str; 10] = [
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Australia/Adelaide",
    "America/Sao_Paulo",
    "Asia/Shanghai",
];

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    ensure_database(&args.database_url).await?;
    let data = std::env::temp_dir().join("footfall-querybench");
    let mut config = Config::embedded(data);
    config.database_url = Some(args.database_url.clone());
    config.jwt_secret = Some("querybench-secret-querybench-secret-0123".into());
    config.login_rate_limit = 1_000;
    config.signup_rate_limit = 1_000;
    let state = AppState::connect(config).await.map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = build_app(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();

    let login = post(
        &http,
        &format!("{base}/api/v1/auth/login"),
        None,
        json!({"email": EMAIL, "password": PASSWORD}),
    )
    .await;
    let token = match login {
        Ok(session) if !args.reload => session["accessToken"].as_str().unwrap_or_default().to_string(),
        _ => load(&http, &base, &state, &args).await?,
    };

    let sites = get(&http, &format!("{base}/api/v1/sites"), &token).await?;
    let site = sites[0]["id"].as_str().ok_or("no site")?.to_string();
    let end = chrono::Utc::now().timestamp() / 86_400 * 86_400;
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let queries = [
        (
            "a year of DAY buckets, all sites",
            format!(
                "{base}/api/v1/footfall?from={}&to={}&granularity=DAY",
                at(end - args.days * 86_400),
                at(end)
            ),
        ),
        (
            "a week of HOUR buckets, one site",
            format!(
                "{base}/api/v1/sites/{site}/footfall?from={}&to={}&granularity=HOUR",
                at(end - 7 * 86_400),
                at(end)
            ),
        ),
        (
            "a day of QUARTER_HOUR buckets, one site",
            format!(
                "{base}/api/v1/sites/{site}/footfall?from={}&to={}&granularity=QUARTER_HOUR",
                at(end - 86_400),
                at(end)
            ),
        ),
    ];
    println!();
    println!("| query | buckets | p50 ms | p95 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, url) in queries {
        let mut times = Vec::with_capacity(args.iterations);
        let mut buckets = 0;
        for i in 0..args.iterations + 10 {
            // Timed until the whole answer has arrived; parsing it is the
            // client's work and is left out.
            let started = Instant::now();
            let res = http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = res.status();
            let bytes = res.bytes().await.map_err(|e| e.to_string())?;
            let took = started.elapsed();
            if !status.is_success() {
                return Err(format!("{url}: {status}"));
            }
            let body: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            if i >= 10 {
                times.push(took);
            }
            buckets = match body["sites"].as_array() {
                Some(sites) => sites.iter().map(|s| s["buckets"].as_array().map_or(0, Vec::len)).sum(),
                None => body["buckets"].as_array().map_or(0, Vec::len),
            };
        }
        times.sort();
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
        println!(
            "| {name} | {buckets} | {:.1} | {:.1} | {:.1} | {:.1} |",
            p(0.50),
            p(0.95),
            p(0.99),
            p(1.0)
        );
    }
    Ok(())
}

async fn ensure_database(url: &str) -> Result<(), String> {
    let (server, name) = url.rsplit_once('/').ok_or("the URL names no database")?;
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .map_err(|e| e.to_string())?;
    let exists = admin
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT 1 FROM pg_database WHERE datname = '{}'", name.replace('\'', "")),
        ))
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    if !exists {
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn post(http: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Result<Value, String> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let value: Value = res.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{url}: {status} {value}"))
    }
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Result<Value, String> {
    let res = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let value: Value = res.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{url}: {status} {value}"))
    }
}

/// Signs the tenant up, creates sites and devices through the API, writes the
/// readings in bulk (as ingest stores add-mode samples), and derives the
/// rollups with the product's rebuild.
async fn load(http: &reqwest::Client, base: &str, state: &AppState, args: &Args) -> Result<String, String> {
    let started = Instant::now();
    let session = post(
        http,
        &format!("{base}/api/v1/auth/signup"),
        None,
        json!({"tenantName": "Query benchmark", "email": EMAIL, "password": PASSWORD}),
    )
    .await?;
    let token = session["accessToken"].as_str().ok_or("no token")?.to_string();
    let tenant = session["tenant"]["id"].as_str().ok_or("no tenant")?.to_string();
    let mut sites = Vec::new();
    for i in 0..args.sites {
        let zone = ZONES[i % ZONES.len()];
        let site = post(
            http,
            &format!("{base}/api/v1/sites"),
            Some(&token),
            json!({"name": format!("Store {i:02} ({zone})"), "timezone": zone}),
        )
        .await?;
        sites.push(site["id"].as_str().ok_or("no site id")?.to_string());
    }
    let mut devices = Vec::new();
    for i in 0..args.devices {
        let site = &sites[i % sites.len()];
        let device = post(
            http,
            &format!("{base}/api/v1/devices"),
            Some(&token),
            json!({"sn": format!("QB{i:06}"), "siteId": site, "protocol": "people_counter"}),
        )
        .await?;
        devices.push((device["id"].as_str().ok_or("no device id")?.to_string(), site.clone()));
    }
    println!("tenant, {} sites, {} devices created", sites.len(), devices.len());

    let db = Database::connect(args.database_url.clone())
        .await
        .map_err(|e| e.to_string())?;
    let end = chrono::Utc::now().timestamp() / 86_400 * 86_400;
    let start = end - args.days * 86_400;
    let slots = (end - start) / 300;
    let mut columns = String::from(
        "tenant_id, site_id, device_id, kind, start_time, end_time, device_time, received_at, has_split, total, avg_stay_ms, inc_from, inc_to",
    );
    let counters = [
        "in",
        "out",
        "passby",
        "turnback",
        "in_adult",
        "out_adult",
        "passby_adult",
        "turnback_adult",
        "in_child",
        "out_child",
        "passby_child",
        "turnback_child",
    ];
    for prefix in ["r_", "i_", "n_"] {
        for c in counters {
            columns.push_str(&format!(", {prefix}{c}"));
        }
    }
    let mut written = 0u64;
    for (n, (device, site)) in devices.iter().enumerate() {
        let mut rows = Vec::with_capacity(1000);
        for slot in 0..slots {
            let t = start + slot * 300;
            let hour = (t % 86_400) / 3600;
            let busy = if (7..21).contains(&hour) { 6 } else { 1 };
            let h = (n as i64 * 1_000_003 + slot * 7919).rem_euclid(1_000_000_007);
            let (a_in, a_out) = (h % busy + 1, (h / 7) % busy);
            let (c_in, c_out) = ((h / 13) % 2, (h / 17) % 2);
            let (pass, turn) = ((h / 19) % 3, (h / 23) % 2);
            let all = [a_in + c_in, a_out + c_out, pass, turn];
            let split = [a_in, a_out, pass, turn, c_in, c_out, 0, 0];
            let mut values = format!(
                "('{tenant}', '{site}', '{device}', 0, {t}, {}, {}, {}, true, {}, {}, {t}, {}",
                t + 300,
                t + 300,
                t + 301,
                all.iter().sum::<i64>(),
                900 + h % 4000,
                t + 300
            );
            for _ in 0..3 {
                for v in all.iter().chain(split.iter()) {
                    values.push_str(&format!(", {v}"));
                }
            }
            values.push(')');
            rows.push(values);
            if rows.len() == 1000 || slot + 1 == slots {
                let sql = format!("INSERT INTO count_readings ({columns}) VALUES {}", rows.join(", "));
                db.execute_unprepared(&sql).await.map_err(|e| e.to_string())?;
                written += rows.len() as u64;
                rows.clear();
            }
        }
        if (n + 1) % 10 == 0 {
            println!(
                "{} devices' readings written ({written} rows, {:.0} s)",
                n + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let tenant_id = footfall_domain::TenantId::parse(&tenant).map_err(|e| e.to_string())?;
    let rebuild_started = Instant::now();
    let rebuilt = footfall_infra::readings::rebuild(&state.db, Some(tenant_id))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "rollups rebuilt from {} readings of {} devices in {:.0} s; load took {:.0} s",
        rebuilt.readings,
        rebuilt.devices,
        rebuild_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    db.execute_unprepared("VACUUM ANALYZE")
        .await
        .map_err(|e| e.to_string())?;
    Ok(token)
}
