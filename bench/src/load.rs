//! footfall-load: a fleet of people counters at full speed against a running
//! server, measuring the ingest path and checking it kept its promise.
//!
//! Phases, each `--seconds` long: `/healthz` (the HTTP stack's ceiling),
//! heartbeats flat out, heartbeats at `--fraction` of that rate, add-mode
//! uploads flat out, uploads at `--fraction` of that rate. Then footfall is
//! read back through the query API and compared with what the server
//! acknowledged: every acknowledged interval exactly once (`MATCH`, exit 0)
//! or not (`MISMATCH`, exit 2).
//!
//! Uploads look like a real counter's: one-minute add-mode intervals with
//! adult/child splits in all four directions, an `eventList` on one upload in
//! ten, and one upload in twenty sent twice (a device that missed the
//! answer). A refused or failed upload is retried as a device does, until it
//! is acknowledged.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load the ingest path with a simulated fleet and check nothing was lost or double counted")]
struct Args {
    /// The server under test.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Simulated devices (distinct SNs), bound before the run.
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Length of each phase, seconds.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// The fraction of the flat-out rate the paced phases run at.
    #[arg(long, default_value_t = 0.5)]
    fraction: f64,
    /// The server's process id, to report its memory (RSS) from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Skip the upload phases (heartbeats and /healthz only).
    #[arg(long)]
    no_uploads: bool,
    /// Only the flat-out upload phase (for fault runs: kill the server or
    /// its database meanwhile, and the end check says whether every
    /// acknowledged upload survived).
    #[arg(long)]
    uploads_only: bool,
    /// More servers sharing the same database and Redis: requests alternate
    /// between `--server` and these, so each device talks to all of them.
    #[arg(long, value_delimiter = ',')]
    also: Vec<String>,
}

/// Latencies (µs) and outcomes of one phase.
#[derive(Default)]
struct Stats {
    latencies_us: Vec<u32>,
    errors: u64,
    refused: u64,
    elapsed: Duration,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        self.refused += other.refused;
    }

    fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(sorted: &[u32], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        f64::from(sorted[i]) / 1000.0
    }

    fn line(&mut self, name: &str, ceiling: Option<f64>) -> String {
        self.latencies_us.sort_unstable();
        let s = &self.latencies_us;
        let ratio = ceiling.map_or_else(|| "—".to_string(), |c| format!("{:.2}", self.rate() / c));
        format!(
            "| {name} | {:.0} | {ratio} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
            self.rate(),
            Self::percentile(s, 0.50),
            Self::percentile(s, 0.95),
            Self::percentile(s, 0.99),
            s.last().map_or(0.0, |m| f64::from(*m) / 1000.0),
            self.refused,
            self.errors,
        )
    }
}

/// What one simulated device has had acknowledged.
#[derive(Clone, Default)]
struct Device {
    sn: String,
    next: i64,
    acked: [u64; 8],
}

/// People of one minute of one device: deterministic, so a retry sends the
/// same body. `[in, out, passby, turnback]` for adults, then children.
fn people(device: usize, minute: i64) -> [u64; 8] {
    let mut h =
        (device as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (minute as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = |m: u64| {
        h ^= h >> 31;
        h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 29;
        h % m
    };
    [next(5), next(5), next(8), next(2), next(2), next(2), next(3), next(1)]
}

fn upload_body(sn: &str, device: usize, start: i64, with_events: bool) -> Value {
    let p = people(device, start);
    let all = |k: usize| p[k] + p[k + 4];
    let mut body = json!({
        "sn": sn, "time": start + 60, "startTime": start, "endTime": start + 60,
        "in": all(0), "out": all(1), "passby": all(2), "turnback": all(3),
        "inAdult": p[0], "outAdult": p[1], "passbyAdult": p[2], "turnbackAdult": p[3],
        "inChild": p[4], "outChild": p[5], "passbyChild": p[6], "turnbackChild": p[7],
        "total": (0..4).map(all).sum::<u64>(), "avgStayTime": 1500,
    });
    if with_events {
        let mut events = Vec::new();
        for (k, n) in p.iter().enumerate() {
            for i in 0..*n {
                let child = k >= 4;
                events.push(json!({
                    "id": start * 100 + events.len() as i64,
                    "timestamp": (start + 30) * 1_000_000 + i as i64,
                    "eventType": if child { 100 + (k - 4) } else { k },
                    "height": if child { 118 } else { 171 },
                    "stayTime": 900,
                }));
            }
        }
        body["len"] = json!(events.len());
        body["eventList"] = json!(events);
    }
    body
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Healthz,
    Heartbeat,
    Upload,
}

struct Shared {
    http: reqwest::Client,
    servers: Vec<String>,
    stop: AtomicBool,
    turn: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// The next server, round robin.
    fn server(&self) -> &str {
        let i = self.turn.fetch_add(1, Ordering::Relaxed);
        &self.servers[i % self.servers.len()]
    }
}

/// One worker: its own devices, requests back to back or paced to `pace`.
async fn worker(
    shared: Arc<Shared>,
    phase: Phase,
    mut devices: Vec<(usize, Device)>,
    pace: Option<Duration>,
) -> (Stats, Vec<(usize, Device)>, u64) {
    let mut stats = Stats::default();
    let mut unacked = 0;
    let mut turn = 0usize;
    let mut next_at = tokio::time::Instant::now();
    let mut sends = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(p) = pace {
            next_at += p;
            tokio::time::sleep_until(next_at).await;
        }
        match phase {
            Phase::Healthz => {
                let t = Instant::now();
                match shared.http.get(format!("{}/healthz", shared.server())).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        stats.latencies_us.push(t.elapsed().as_micros() as u32);
                    }
                    _ => stats.errors += 1,
                }
            }
            Phase::Heartbeat => {
                let (_, d) = &devices[turn % devices.len()];
                turn += 1;
                let body = json!({"sn": d.sn, "time": chrono::Utc::now().timestamp(), "swRelease": "LOAD-1.0"});
                let t = Instant::now();
                match post(&shared, "/api/camera/heartBeat", &body).await {
                    Ok(0) => stats.latencies_us.push(t.elapsed().as_micros() as u32),
                    Ok(_) => stats.refused += 1,
                    Err(_) => stats.errors += 1,
                }
            }
            Phase::Upload => {
                let slot = turn % devices.len();
                turn += 1;
                let (index, d) = &mut devices[slot];
                sends += 1;
                let body = upload_body(&d.sn, *index, d.next, sends.is_multiple_of(10));
                let repeat = sends.is_multiple_of(20);
                let mut acked = false;
                // Retried as a device retries, for about a minute.
                for attempt in 0..150u64 {
                    let t = Instant::now();
                    match post(&shared, "/api/camera/dataUpload", &body).await {
                        Ok(0) => {
                            stats.latencies_us.push(t.elapsed().as_micros() as u32);
                            acked = true;
                            if repeat && attempt == 0 {
                                // The device missed the answer and sends it again.
                                let t = Instant::now();
                                match post(&shared, "/api/camera/dataUpload", &body).await {
                                    Ok(0) => stats.latencies_us.push(t.elapsed().as_micros() as u32),
                                    Ok(_) => stats.refused += 1,
                                    Err(_) => stats.errors += 1,
                                }
                            }
                            break;
                        }
                        Ok(_) => stats.refused += 1,
                        Err(_) => stats.errors += 1,
                    }
                    tokio::time::sleep(Duration::from_millis((20 * (attempt + 1)).min(400))).await;
                }
                if acked {
                    let p = people(*index, d.next);
                    for (sum, n) in d.acked.iter_mut().zip(p) {
                        *sum += n;
                    }
                } else {
                    unacked += 1;
                }
                d.next += 60;
            }
        }
    }
    (stats, devices, unacked)
}

async fn post(shared: &Shared, path: &str, body: &Value) -> Result<i64, String> {
    let res = shared
        .http
        .post(format!("{}{path}", shared.server()))
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let v: Value = res.json().await.map_err(|e| e.to_string())?;
    Ok(v["code"].as_i64().unwrap_or(-1))
}

/// Runs a phase over all workers; returns merged stats and the devices back.
async fn phase(
    shared: &Arc<Shared>,
    which: Phase,
    groups: Vec<Vec<(usize, Device)>>,
    seconds: u64,
    rate: Option<f64>,
) -> (Stats, Vec<Vec<(usize, Device)>>, u64) {
    shared.stop.store(false, Ordering::Relaxed);
    let workers = groups.len();
    let pace = rate.map(|r| Duration::from_secs_f64(workers as f64 / r.max(1.0)));
    let started = Instant::now();
    let handles: Vec<_> = groups
        .into_iter()
        .map(|g| tokio::spawn(worker(shared.clone(), which, g, pace)))
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    shared.stop.store(true, Ordering::Relaxed);
    let mut stats = Stats::default();
    let mut back = Vec::new();
    let mut unacked = 0;
    for h in handles {
        if let Ok((s, g, u)) = h.await {
            stats.merge(s);
            back.push(g);
            unacked += u;
        }
    }
    stats.elapsed = started.elapsed();
    (stats, back, unacked)
}

fn rss(pid: Option<u32>) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((kb("VmRSS:")?, kb("VmHWM:")?))
}

async fn api(
    http: &reqwest::Client,
    server: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut req = match &body {
        Some(b) => http.post(format!("{server}{path}")).json(b),
        None => http.get(format!("{server}{path}")),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| format!("{path}: {e}"))?;
    let status = res.status();
    let text = res.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("footfall-load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let server = args.server.trim_end_matches('/').to_string();
    let stamp = chrono::Utc::now().timestamp_millis();

    // A tenant, a site and the fleet, bound through the API.
    let session = api(
        &http,
        &server,
        "/api/v1/auth/signup",
        None,
        Some(json!({"tenantName": format!("Load {stamp}"), "email": format!("load-{stamp}@footfall.test"), "password": "load test password"})),
    )
    .await?;
    let token = session["accessToken"].as_str().ok_or("no access token")?.to_string();
    let site = api(
        &http,
        &server,
        "/api/v1/sites",
        Some(&token),
        Some(json!({"name": "Load site", "timezone": "UTC"})),
    )
    .await?;
    let site = site["id"].as_str().ok_or("no site id")?.to_string();
    let bind_started = Instant::now();
    let sns: Vec<String> = (0..args.devices).map(|i| format!("LOAD{stamp}X{i:06}")).collect();
    let mut binds = Vec::new();
    for chunk in sns.chunks(args.devices.div_ceil(16).max(1)) {
        let (http, server, token, site, chunk) = (
            http.clone(),
            server.clone(),
            token.clone(),
            site.clone(),
            chunk.to_vec(),
        );
        binds.push(tokio::spawn(async move {
            for sn in chunk {
                api(
                    &http,
                    &server,
                    "/api/v1/devices",
                    Some(&token),
                    Some(json!({"sn": sn, "siteId": site, "protocol": "people_counter"})),
                )
                .await?;
            }
            Ok::<(), String>(())
        }));
    }
    for b in binds {
        b.await.map_err(|e| e.to_string())??;
    }
    println!(
        "bound {} devices in {:.1} s; {} connections, {} s per phase",
        args.devices,
        bind_started.elapsed().as_secs_f64(),
        args.concurrency,
        args.seconds
    );

    // Devices spread over the workers; each starts a week back, minute by minute.
    let start = (chrono::Utc::now().timestamp() - 7 * 86_400) / 60 * 60;
    let mut groups: Vec<Vec<(usize, Device)>> = vec![Vec::new(); args.concurrency.min(args.devices).max(1)];
    let workers = groups.len();
    for (i, sn) in sns.iter().enumerate() {
        groups[i % workers].push((
            i,
            Device {
                sn: sn.clone(),
                next: start,
                acked: [0; 8],
            },
        ));
    }
    let mut servers = vec![server.clone()];
    servers.extend(args.also.iter().map(|s| s.trim_end_matches('/').to_string()));
    let shared = Arc::new(Shared {
        http: http.clone(),
        servers,
        stop: AtomicBool::new(false),
        turn: Default::default(),
    });
    let secs = args.seconds;
    let mut lines = Vec::new();

    // First contact: each device's first heartbeat records its delivered
    // configuration and reported fields in SQL (once). Done before timing,
    // so the phases measure the steady state of a fleet already online.
    let warm_started = Instant::now();
    let mut warm = Vec::new();
    for group in &groups {
        let (shared, sns): (Arc<Shared>, Vec<String>) =
            (shared.clone(), group.iter().map(|(_, d)| d.sn.clone()).collect());
        warm.push(tokio::spawn(async move {
            for sn in sns {
                let body = json!({"sn": sn, "time": chrono::Utc::now().timestamp(), "swRelease": "LOAD-1.0"});
                post(&shared, "/api/camera/heartBeat", &body).await?;
            }
            Ok::<(), String>(())
        }));
    }
    for w in warm {
        w.await.map_err(|e| e.to_string())??;
    }
    println!(
        "first heartbeat of every device (SQL: delivered config, reported fields) in {:.1} s",
        warm_started.elapsed().as_secs_f64()
    );

    let mut unacked = 0;
    let mut g = groups;
    if args.uploads_only {
        let (mut up, g2, u) = phase(&shared, Phase::Upload, g, secs, None).await;
        lines.push(up.line("dataUpload (add, durable), flat out", None));
        g = g2;
        unacked = u;
    } else {
        let (mut healthz, g1, _) = phase(&shared, Phase::Healthz, g, secs, None).await;
        let ceiling = healthz.rate();
        lines.push(healthz.line("GET /healthz (ceiling)", None));
        let (mut hb, g2, _) = phase(&shared, Phase::Heartbeat, g1, secs, None).await;
        let hb_rate = hb.rate();
        lines.push(hb.line("heartBeat, flat out", Some(ceiling)));
        let (mut hb_paced, g3, _) = phase(&shared, Phase::Heartbeat, g2, secs, Some(hb_rate * args.fraction)).await;
        lines.push(hb_paced.line(&format!("heartBeat at {:.0}/s", hb_rate * args.fraction), Some(ceiling)));
        g = g3;
        if !args.no_uploads {
            let (mut up, g4, u) = phase(&shared, Phase::Upload, g, secs, None).await;
            let up_rate = up.rate();
            lines.push(up.line("dataUpload (add, durable), flat out", Some(ceiling)));
            let (mut up_paced, g5, u2) = phase(&shared, Phase::Upload, g4, secs, Some(up_rate * args.fraction)).await;
            lines.push(up_paced.line(
                &format!("dataUpload at {:.0}/s", up_rate * args.fraction),
                Some(ceiling),
            ));
            g = g5;
            unacked = u + u2;
        }
    }

    println!("\n| endpoint | req/s | ratio to /healthz | p50 ms | p95 ms | p99 ms | max ms | refused | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for l in &lines {
        println!("{l}");
    }
    if let Some((rss, peak)) = rss(args.server_pid) {
        println!(
            "\nserver memory: RSS {:.1} MB now, peak {:.1} MB",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
    if args.no_uploads && !args.uploads_only {
        return Ok(true);
    }

    // What was acknowledged against what the platform counts.
    let mut expected = [0u64; 8];
    let mut intervals = 0i64;
    for (_, d) in g.iter().flatten() {
        for (e, a) in expected.iter_mut().zip(d.acked) {
            *e += a;
        }
        intervals += (d.next - start) / 60;
    }
    let from = chrono::DateTime::from_timestamp(start - start.rem_euclid(86_400), 0).ok_or("time")?;
    let to = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() + 86_400, 0).ok_or("time")?;
    let ff = api(
        &http,
        &server,
        &format!(
            "/api/v1/sites/{site}/footfall?from={}&to={}&granularity=DAY",
            from.format("%Y-%m-%dT%H:%M:%SZ"),
            to.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        Some(&token),
        None,
    )
    .await?;
    let t = &ff["totals"];
    let n = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    let got = [
        n(&t["adult"]["in"]),
        n(&t["adult"]["out"]),
        n(&t["adult"]["passby"]),
        n(&t["adult"]["turnback"]),
        n(&t["child"]["in"]),
        n(&t["child"]["out"]),
        n(&t["child"]["passby"]),
        n(&t["child"]["turnback"]),
    ];
    println!("\n{intervals} one-minute intervals uploaded; {unacked} never acknowledged (retries exhausted)");
    println!("acknowledged (adult in/out/passby/turnback, child ...): {expected:?}");
    println!("platform footfall:                                      {got:?}");
    if got == expected && unacked == 0 {
        println!("MATCH: every acknowledged upload counted exactly once");
        Ok(true)
    } else {
        println!("MISMATCH");
        Ok(false)
    }
}
