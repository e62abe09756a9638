//! `footfall-sim`: plays a fleet of 3D people counters against a running
//! Footfall server, for demos and as an end-to-end check.
//!
//! It signs up a tenant (or logs in), creates a site, binds N devices, and
//! replays a stretch of the recent past at high speed: each simulated device
//! heartbeats every simulated minute, counts people (adults and children, in
//! all four directions), uploads in whatever upload interval and data mode its
//! heartbeat answers ask for (real time with event lists, or intervals; add or
//! total mode), now and then retransmits, and optionally loses its network for
//! a while, after which the simulator asks for that history as a tenant would
//! and the device answers the request from its own records. At the end it
//! compares the platform's footfall with what the devices really counted.
//!
//! ```sh
//! cargo run --release -p footfall-bench --bin footfall-sim -- --devices 20 --hours 24 --speed 1440
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Parser, Debug, Clone)]
#[command(about = "Play simulated people counters against a Footfall server")]
struct Args {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Log in as this user instead of signing up a new demo tenant.
    #[arg(long, requires = "password")]
    email: Option<String>,
    #[arg(long)]
    password: Option<String>,
    /// Number of devices.
    #[arg(long, default_value_t = 10)]
    devices: usize,
    /// IANA timezone of the simulated site.
    #[arg(long, default_value = "Europe/London")]
    timezone: String,
    /// Hours of the recent past to replay.
    #[arg(long, default_value_t = 24)]
    hours: i64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1440)]
    speed: u64,
    /// Let each device lose its network once and recover it by a history request.
    #[arg(long)]
    outage: bool,
    /// Switch every device to this configuration after a third of the run
    /// (e.g. `0:add` for real time, `5:total`), as a tenant would.
    #[arg(long)]
    reconfigure: Option<String>,
    /// Seed of the random people.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A small deterministic generator (xorshift64*), so runs can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// People counted by one device in one simulated minute, by direction
/// (in, out, passby, turnback) and adult/child.
#[derive(Clone, Copy, Default)]
struct Minute {
    adult: [u64; 4],
    child: [u64; 4],
}

impl Minute {
    fn all(&self) -> [u64; 4] {
        std::array::from_fn(|i| self.adult[i] + self.child[i])
    }
}

struct Api {
    http: reqwest::Client,
    server: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {text}"));
        }
        serde_json::from_str(&text).or(Ok(Value::Null))
    }

    async fn device(&self, path: &str, body: &Value) -> Result<Value, String> {
        let res = self
            .http
            .post(format!("{}{path}", self.server))
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        res.json().await.map_err(|e| format!("{path}: {e}"))
    }
}

/// The simulated clock: starts `hours` ago and runs `speed` times faster
/// than real time, never past the present.
#[derive(Clone, Copy)]
struct Clock {
    start: i64,
    began: Instant,
    speed: u64,
    end: i64,
}

impl Clock {
    fn now(&self) -> i64 {
        let elapsed = self.began.elapsed().as_secs_f64() * self.speed as f64;
        (self.start + elapsed as i64).min(self.end)
    }
}

struct Device {
    sn: String,
    rng: Rng,
    /// Every simulated minute's people: minute `i` is
    /// `[record_start + 60 i, record_start + 60 (i + 1))`. The device's record.
    minutes: Vec<Minute>,
    record_start: i64,
    upload_interval: i64,
    total_mode: bool,
    tz_hours: i64,
    /// End of the last uploaded interval (add mode).
    uploaded_to: i64,
    offline: Option<(i64, i64)>,
    last_upload: Option<Value>,
    answered_history: Vec<(i64, i64)>,
    sent: u64,
}

impl Device {
    /// The device's own time: the end of the last minute it counted.
    fn time(&self) -> i64 {
        self.record_start + 60 * self.minutes.len() as i64
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("footfall-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let stamp = chrono::Utc::now().timestamp_millis();
    let (email, password) = match (&args.email, &args.password) {
        (Some(e), Some(p)) => (e.clone(), p.clone()),
        _ => (format!("sim-{stamp}@example.com"), "simulated password".to_string()),
    };
    let session = if args.email.is_some() {
        post_json(
            &http,
            &args.server,
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await?
    } else {
        let body = json!({"tenantName": format!("Simulated retail {stamp}"), "email": email, "password": password});
        post_json(&http, &args.server, "/api/v1/auth/signup", body).await?
    };
    let token = session["accessToken"]
        .as_str()
        .ok_or("no access token in the answer")?
        .to_string();
    let api = Arc::new(Api {
        http,
        server: args.server.trim_end_matches('/').to_string(),
        token,
    });
    let site = api
        .call(
            reqwest::Method::POST,
            "/api/v1/sites",
            Some(json!({"name": format!("Simulated store {stamp}"), "timezone": args.timezone})),
        )
        .await?;
    let site_id = site["id"].as_str().ok_or("no site id")?.to_string();

    let now = chrono::Utc::now().timestamp();
    let end = now - now % 300;
    let start = end - args.hours * 3600;
    let clock = Clock {
        start,
        began: Instant::now(),
        speed: args.speed.max(1),
        end,
    };
    println!(
        "site {site_id} ({}), {} devices, replaying {} to {} at {}x; log in as {email}",
        args.timezone,
        args.devices,
        chrono::DateTime::from_timestamp(start, 0).unwrap_or_default(),
        chrono::DateTime::from_timestamp(end, 0).unwrap_or_default(),
        args.speed
    );

    let mut handles = Vec::new();
    let mut device_ids = Vec::new();
    let mut outages: Vec<Outage> = Vec::new();
    for i in 0..args.devices {
        let sn = format!("SIM{stamp}{i:04}");
        let bound = api
            .call(
                reqwest::Method::POST,
                "/api/v1/devices",
                Some(json!({"sn": sn, "siteId": site_id, "protocol": "people_counter", "name": format!("Door {}", i + 1)})),
            )
            .await?;
        let device_id = bound["id"].as_str().unwrap_or_default().to_string();
        device_ids.push(device_id.clone());
        let mut rng =
            Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
        let offline = args.outage.then(|| {
            let length = 15 * 60 + 300 * rng.below(12) as i64;
            let at = start + 300 * (1 + rng.below(((end - start - length) / 300).max(2) as u64 - 1) as i64);
            (at, at + length)
        });
        let outage = offline.map(|(from, to)| {
            // The tenant sees the gap in the chart: uploads that never came
            // cover up to one upload interval (at most an hour) either side
            // of the outage, so that is the range asked for.
            (device_id.clone(), (from - 3600).max(start), (to + 3600).min(end))
        });
        let device = Arc::new(Mutex::new(Device {
            sn,
            rng,
            minutes: Vec::new(),
            record_start: start,
            upload_interval: 5,
            total_mode: false,
            tz_hours: 0,
            uploaded_to: start,
            offline,
            last_upload: None,
            answered_history: Vec::new(),
            sent: 0,
        }));
        if let Some((id, from, to)) = outage {
            outages.push((id, from, to, device.clone()));
        }
        handles.push(tokio::spawn(play(api.clone(), device, clock)));
    }

    if let Some(spec) = &args.reconfigure {
        let (interval, mode) = spec
            .split_once(':')
            .ok_or("--reconfigure wants <minutes>:<add|total>")?;
        let api = api.clone();
        let ids = device_ids.clone();
        let body = json!({"uploadInterval": interval.parse::<i64>().map_err(|e| e.to_string())?, "dataMode": mode});
        let wait = Duration::from_secs_f64((end - start) as f64 / 3.0 / clock.speed as f64);
        handles.push(tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            for id in ids {
                if let Err(e) = api
                    .call(
                        reqwest::Method::PUT,
                        &format!("/api/v1/devices/{id}/config"),
                        Some(body.clone()),
                    )
                    .await
                {
                    eprintln!("reconfigure: {e}");
                }
            }
            println!("reconfigured every device to {}", body);
            Ok((0, [0u64; 4]))
        }));
    }

    // Ask for the history of every outage once it is over, as a tenant would.
    if !outages.is_empty() {
        handles.push(tokio::spawn(request_outages(api.clone(), outages)));
    }

    let mut sent = 0;
    let mut truth = [0u64; 4];
    for h in handles {
        let (n, t) = h.await.map_err(|e| e.to_string())??;
        sent += n;
        for i in 0..4 {
            truth[i] += t[i];
        }
    }

    let from = chrono::DateTime::from_timestamp(start, 0)
        .unwrap_or_default()
        .to_rfc3339();
    let to = chrono::DateTime::from_timestamp(end + 3600, 0)
        .unwrap_or_default()
        .to_rfc3339();
    let ff = api
        .call(
            reqwest::Method::GET,
            &format!(
                "/api/v1/sites/{site_id}/footfall?from={}&to={}&granularity=HOUR",
                from.replace('+', "%2B"),
                to.replace('+', "%2B")
            ),
            None,
        )
        .await?;
    let counted = ["in", "out", "passby", "turnback"].map(|k| ff["totals"][k].as_u64().unwrap_or(0));
    println!("uploads sent: {sent}");
    println!("                 in      out   passby turnback");
    println!(
        "devices    {:>8} {:>8} {:>8} {:>8}",
        truth[0], truth[1], truth[2], truth[3]
    );
    println!(
        "platform   {:>8} {:>8} {:>8} {:>8}",
        counted[0], counted[1], counted[2], counted[3]
    );
    let ok = counted == truth;
    println!("{}", if ok { "MATCH" } else { "MISMATCH" });
    Ok(ok)
}

async fn post_json(http: &reqwest::Client, server: &str, path: &str, body: Value) -> Result<Value, String> {
    let res = http
        .post(format!("{}{path}", server.trim_end_matches('/')))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let status = res.status();
    let value: Value = res.json().await.map_err(|e| format!("{path}: {e}"))?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{path}: {status} {value}"))
    }
}

/// The history requests a tenant makes once each device's outage is over
/// (in the device's own time, which may lag the clock under load).
async fn request_outages(api: Arc<Api>, mut pending: Vec<Outage>) -> Result<(u64, [u64; 4]), String> {
    while !pending.is_empty() {
        let mut still = Vec::new();
        for (id, from, to, device) in pending {
            if device.lock().await.time() >= to {
                let body = json!({
                    "from": chrono::DateTime::from_timestamp(from, 0).unwrap_or_default().to_rfc3339(),
                    "to": chrono::DateTime::from_timestamp(to, 0).unwrap_or_default().to_rfc3339(),
                });
                api.call(
                    reqwest::Method::POST,
                    &format!("/api/v1/devices/{id}/history-requests"),
                    Some(body),
                )
                .await?;
                println!("asked device {id} for its history of {from}..{to}");
            } else {
                still.push((id, from, to, device));
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok((0, [0; 4]))
}

type Outage = (String, i64, i64, Arc<Mutex<Device>>);

/// One device's life: heartbeat and count every simulated minute, upload at
/// each interval's end, answer history requests. Returns uploads sent and
/// what the device counted.
async fn play(api: Arc<Api>, device: Arc<Mutex<Device>>, clock: Clock) -> Result<(u64, [u64; 4]), String> {
    let tick = Duration::from_secs_f64(60.0 / clock.speed as f64);
    let mut minute = clock.start;
    loop {
        while minute + 60 > clock.now() {
            tokio::time::sleep(tick / 4).await;
        }
        minute += 60;
        let mut d = device.lock().await;
        count_minute(&mut d, minute);
        let online = !d.offline.is_some_and(|(a, b)| a < minute && minute <= b);
        if online {
            heartbeat(&api, &mut d, minute).await?;
        }
        let interval = d.upload_interval.max(1) * 60;
        if minute % interval == 0 || d.upload_interval == 0 {
            let upload = build_upload(&mut d, minute);
            if online {
                send(&api, &mut d, &upload).await?;
                if d.rng.below(20) == 0 {
                    // A retransmission: the device did not see the answer.
                    send(&api, &mut d, &upload).await?;
                }
            }
            d.last_upload = Some(upload);
        }
        if minute >= clock.end {
            // The run ends: report what is left of the last interval.
            if online && d.uploaded_to < minute {
                let upload = build_upload(&mut d, minute);
                send(&api, &mut d, &upload).await?;
            }
            break;
        }
    }
    // Let the history answers arrive: keep heartbeating for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut d = device.lock().await;
    while d
        .offline
        .is_some_and(|(a, b)| !d.answered_history.iter().any(|(f, t)| *f <= a && *t >= b))
        && Instant::now() < deadline
    {
        heartbeat(&api, &mut d, clock.end).await?;
        drop(d);
        tokio::time::sleep(Duration::from_millis(300)).await;
        d = device.lock().await;
    }
    let truth = d.minutes.iter().fold([0u64; 4], |mut acc, m| {
        for (a, v) in acc.iter_mut().zip(m.all()) {
            *a += v;
        }
        acc
    });
    if std::env::var_os("FOOTFALL_SIM_VERBOSE").is_some() {
        println!(
            "{} counted {:?} in {} uploads; offline {:?}",
            d.sn, truth, d.sent, d.offline
        );
    }
    Ok((d.sent, truth))
}

fn count_minute(d: &mut Device, minute: i64) {
    // Busier around midday in the site's zone (as the device knows it).
    let hour = ((minute + d.tz_hours * 3600).rem_euclid(86_400)) / 3600;
    let rate = match hour {
        0..=6 => 0,
        7..=9 | 19..=21 => 2,
        10..=18 => 5,
        _ => 1,
    };
    let mut m = Minute::default();
    for _ in 0..d.rng.below(rate + 1) {
        let direction = match d.rng.below(10) {
            0..=4 => 0,
            5..=7 => 1,
            8 => 2,
            _ => 3,
        };
        if d.rng.below(5) == 0 {
            m.child[direction] += 1;
        } else {
            m.adult[direction] += 1;
        }
    }
    d.minutes.push(m);
}

async fn heartbeat(api: &Api, d: &mut Device, now: i64) -> Result<(), String> {
    let answer = api
        .device(
            "/api/camera/heartBeat",
            &json!({"sn": d.sn, "time": now, "swRelease": "SIM-1.0"}),
        )
        .await?;
    if answer["code"] != 0 {
        return Err(format!("heartbeat of {}: {answer}", d.sn));
    }
    let data = &answer["data"];
    d.upload_interval = data["uploadInterval"].as_i64().unwrap_or(d.upload_interval);
    d.total_mode = data["dataMode"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("total"));
    d.tz_hours = data["timezone"].as_i64().unwrap_or(0);
    if let (Some(from), Some(to)) = (data["dataStartTime"].as_i64(), data["dataEndTime"].as_i64())
        && !d.answered_history.contains(&(from, to))
        && d.time() >= to
    {
        let history = history_upload(d, from, to);
        send(api, d, &history).await?;
        d.answered_history.push((from, to));
    }
    Ok(())
}

/// The people of `[from, to)` from the device's per-minute record.
fn people(d: &Device, from: i64, to: i64) -> Minute {
    let mut sum = Minute::default();
    for (i, m) in d.minutes.iter().enumerate() {
        let t = d.record_start + 60 * i as i64;
        if from <= t && t < to {
            for k in 0..4 {
                sum.adult[k] += m.adult[k];
                sum.child[k] += m.child[k];
            }
        }
    }
    sum
}

fn counters(m: &Minute) -> Value {
    let all = m.all();
    json!({
        "in": all[0], "out": all[1], "passby": all[2], "turnback": all[3],
        "inAdult": m.adult[0], "outAdult": m.adult[1], "passbyAdult": m.adult[2], "turnbackAdult": m.adult[3],
        "inChild": m.child[0], "outChild": m.child[1], "passbyChild": m.child[2], "turnbackChild": m.child[3],
        "total": all.iter().sum::<u64>(),
        "avgStayTime": 1200 + 40 * all[0],
    })
}

/// The upload due at `now`, in the device's current mode.
fn build_upload(d: &mut Device, now: i64) -> Value {
    let mut body = if d.total_mode {
        // Running totals since the device's local midnight; the report made
        // at midnight closes the day that ends there.
        let day_start = (now - 1) - (now - 1 + d.tz_hours * 3600).rem_euclid(86_400);
        let period = day_start.max(d.record_start);
        let mut b = counters(&people(d, period, now));
        b["startTime"] = json!(period);
        b
    } else {
        let from = d.uploaded_to;
        let mut b = counters(&people(d, from, now));
        b["startTime"] = json!(from);
        b
    };
    if d.upload_interval == 0 {
        // Real time: one event per person of the last minute.
        let last = d.minutes.last().copied().unwrap_or_default();
        let mut events = Vec::new();
        for (k, (a, c)) in last.adult.iter().zip(last.child).enumerate() {
            for n in 0..(a + c) {
                let child = n >= *a;
                events.push(json!({
                    "id": d.sent * 100 + events.len() as u64,
                    "timestamp": (now - 30) * 1_000_000 + events.len() as i64,
                    "eventType": if child { 100 + k } else { k },
                    "height": if child { 115 } else { 172 },
                    "stayTime": 900,
                }));
            }
        }
        body["len"] = json!(events.len());
        body["eventList"] = json!(events);
    }
    body["sn"] = json!(d.sn);
    body["endTime"] = json!(now);
    body["time"] = json!(now);
    d.uploaded_to = now;
    body
}

/// History records for `[from, to]` in 5-minute slots, from the device's record.
fn history_upload(d: &Device, from: i64, to: i64) -> Value {
    let mut data = Vec::new();
    let mut slot = from - from.rem_euclid(300);
    while slot < to {
        let mut entry = counters(&people(d, slot, slot + 300));
        entry["time"] = json!(slot + 300);
        entry["startTime"] = json!(slot);
        entry["endTime"] = json!(slot + 300);
        data.push(entry);
        slot += 300;
    }
    json!({"sn": d.sn, "len": data.len(), "data": data})
}

async fn send(api: &Api, d: &mut Device, body: &Value) -> Result<(), String> {
    let answer = api.device("/api/camera/dataUpload", body).await?;
    if answer["code"] != 0 {
        return Err(format!("upload of {}: {answer}", d.sn));
    }
    d.sent += 1;
    Ok(())
}
