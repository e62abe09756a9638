//! IPC cameras end to end (PROTOCOLS.md §2): the tests act as the camera,
//! signing with their own Digest client (`footfall_e2e::camera`), and check
//! what the tenant sees. Real clients (curl, python-requests) sign too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use footfall_e2e::camera::{Camera, Challenge, Signer, tlv};
use footfall_e2e::{Tenant, TestApp, now, rfc3339, spawn_app, spawn_app_with, unique_sn};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ZONE: &str = "Asia/Shanghai";
const OFFSET: i64 = 8 * 3600;

/// A tiny JPEG as far as anyone reading the first and last bytes can tell.
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 3, 0xFF, 0xD9,
];
const CUTOUT: &[u8] = &[0xFF, 0xD8, 0xFF, 0xDB, 9, 9, 9, 0xFF, 0xD9];

/// The camera's wall clock (Shanghai) for a Unix time, as the camera sends it.
fn wall_clock(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix + OFFSET, 0)
        .expect("a valid time")
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A TLV PTS: the camera's wall clock in milliseconds.
fn pts(unix: i64) -> i64 {
    (unix + OFFSET) * 1000
}

/// Unix time of yesterday's local midnight in Shanghai: a whole past day.
fn yesterday() -> i64 {
    let local = now() + OFFSET;
    local - local.rem_euclid(86_400) - 86_400 - OFFSET
}

async fn site_with_camera(app: &TestApp, tenant: &Tenant) -> (String, String, Camera) {
    let site = app.create_site(&tenant.token, "Lobby", ZONE).await;
    let camera = Camera::new(&unique_sn(), "admin", "s3cret-Passw0rd");
    let device = app.bind_camera(&tenant.token, &site, &camera).await;
    (site, device["id"].as_str().unwrap().to_string(), camera)
}

fn keepalive_body(sn: &str) -> Vec<u8> {
    json!({"method": "keepalive", "param": {"deviceId": sn, "channelNum": 1, "deviceName": "HD IPC"}})
        .to_string()
        .into_bytes()
}

/// Answers `401` with a fresh challenge; returns it.
async fn challenge(app: &TestApp, sn: &str) -> Challenge {
    let a = app
        .camera_request(Method::GET, "/v1/device/keepalive", Some(sn), None, keepalive_body(sn))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    assert_eq!(a.body["error"]["errorcode"], -401);
    Challenge::of(&a)
}

async fn signed_keepalive(app: &TestApp, sn: &str, signer: &Signer, nc: u32) -> reqwest::StatusCode {
    let auth = signer.authorization("GET", "/v1/device/keepalive", nc);
    app.camera_request(
        Method::GET,
        "/v1/device/keepalive",
        Some(sn),
        Some(&auth),
        keepalive_body(sn),
    )
    .await
    .status
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> footfall_e2e::Answer {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

async fn events(app: &TestApp, token: &str, device: &str, query: &str) -> Vec<Value> {
    let a = app
        .get(&format!("/api/v1/devices/{device}/camera-events?{query}"), token)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_camera_signs_in_and_is_reconfigured_by_its_keepalive() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (_, device, mut camera) = site_with_camera(&app, &tenant).await;

    let d = app.get(&format!("/api/v1/devices/{device}"), &tenant.token).await.body;
    assert_eq!(d["username"], "admin");
    assert!(!d.to_string().contains("s3cret"), "the password never comes back: {d}");
    assert_eq!(d["online"], false);

    // The challenge: this server's realm, qop=auth, MD5 by default.
    let c = challenge(&app, &camera.sn).await;
    assert_eq!(c.realm, "footfall");
    assert_eq!(c.qop, "auth");
    assert_eq!(c.algorithm, "MD5");
    assert!(!c.stale);

    let answer = app.keepalive(&mut camera).await;
    assert_eq!(answer["method"], "keepalive");
    assert_eq!(answer["keepinterval"], 60);
    let d = app.get(&format!("/api/v1/devices/{device}"), &tenant.token).await.body;
    assert_eq!(d["online"], true, "{d}");
    assert!(d["lastSeenAt"].is_string());

    // The tenant changes the period; the next keepalive carries it.
    let changed = put(
        &app,
        &tenant.token,
        &format!("/api/v1/devices/{device}/config"),
        json!({"keepInterval": 30}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["config"]["keepInterval"], 30);
    assert_eq!(changed.body["configInSync"], false);
    assert_eq!(app.keepalive(&mut camera).await["keepinterval"], 30);
    let d = app.get(&format!("/api/v1/devices/{device}"), &tenant.token).await.body;
    assert_eq!(d["deliveredConfig"]["keepInterval"], 30, "{d}");
    assert_eq!(d["configInSync"], true);

    // The same over GraphQL, delivered by a POST keepalive.
    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($id: ID!) { updateDeviceConfig(id: $id, keepInterval: 120) { config { keepInterval } configInSync } }",
            json!({"id": device}),
        )
        .await;
    assert_eq!(
        g.body["data"]["updateDeviceConfig"]["config"]["keepInterval"], 120,
        "{}",
        g.text
    );
    let a = app
        .camera_send(
            &mut camera,
            Method::POST,
            "/v1/device/keepalive",
            keepalive_body("ignored when User-Identify is sent"),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["keepinterval"], 120);

    // Out-of-range periods are refused with a clear error.
    for bad in [json!(5), json!(3601), json!(-60), json!("sixty")] {
        let a = put(
            &app,
            &tenant.token,
            &format!("/api/v1/devices/{device}/config"),
            json!({"keepInterval": bad}),
        )
        .await;
        assert!(a.status.is_client_error(), "{bad}: {} {}", a.status, a.text);
        assert!(a.body["error"]["message"].is_string(), "{}", a.text);
    }
}

#[tokio::test]
async fn digest_refuses_what_a_camera_should_not_get_away_with() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (_, device, camera) = site_with_camera(&app, &tenant).await;
    let c = challenge(&app, &camera.sn).await;
    let good = Signer::new(&camera.username, &camera.password, &c);
    assert_eq!(signed_keepalive(&app, &camera.sn, &good, 1).await, StatusCode::OK);

    // The same nonce count again is a replay; the next one is fine.
    assert_eq!(
        signed_keepalive(&app, &camera.sn, &good, 1).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(signed_keepalive(&app, &camera.sn, &good, 2).await, StatusCode::OK);

    let wrong = |f: &dyn Fn(&mut Signer)| {
        let mut s = good.clone();
        f(&mut s);
        s
    };
    let cases: Vec<(&str, Signer)> = vec![
        ("wrong password", wrong(&|s| s.password = "guess".into())),
        ("wrong username", wrong(&|s| s.username = "root".into())),
        ("wrong realm", wrong(&|s| s.realm = "elsewhere".into())),
        (
            "forged nonce",
            wrong(&|s| {
                let mut n = s.nonce.clone().into_bytes();
                n[3] = if n[3] == b'A' { b'B' } else { b'A' };
                s.nonce = String::from_utf8(n).unwrap();
            }),
        ),
        ("made-up nonce", wrong(&|s| s.nonce = "0123456789abcdef".into())),
    ];
    for (nc, (what, signer)) in (10..).zip(cases) {
        let a = app
            .camera_request(
                Method::GET,
                "/v1/device/keepalive",
                Some(&camera.sn),
                Some(&signer.authorization("GET", "/v1/device/keepalive", nc)),
                keepalive_body(&camera.sn),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}: {}", a.text);
        assert_eq!(a.body["error"]["errorcode"], -401, "{what}");
        assert!(!Challenge::of(&a).stale, "{what} is not a stale nonce");
    }

    // Signed for another method or another path.
    let auth = good.authorization("POST", "/v1/device/keepalive", 20);
    let a = app
        .camera_request(
            Method::GET,
            "/v1/device/keepalive",
            Some(&camera.sn),
            Some(&auth),
            vec![],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "method mismatch");
    let auth = good.authorization("POST", "/v1/device/keepalive", 21);
    let a = app
        .camera_request(
            Method::POST,
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            Some(&camera.sn),
            Some(&auth),
            json!({"method": "alarm_report", "param": {"alarm_type": "x"}})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "uri mismatch");
    assert_eq!(a.body["method"], "alarm_report");
    assert!(
        events(&app, &tenant.token, &device, "").await.is_empty(),
        "a refused report stores nothing"
    );

    // Garbage in the header is a challenge, not an error page.
    for header in ["Digest", "Basic YWRtaW46YWRtaW4=", "Digest username=\"admin\", nc=zz"] {
        let a = app
            .camera_request(
                Method::GET,
                "/v1/device/keepalive",
                Some(&camera.sn),
                Some(header),
                vec![],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{header}: {}", a.text);
    }

    // An SN nobody bound, signed correctly with the right password: refused.
    let stranger = unique_sn();
    let c = challenge(&app, &stranger).await;
    let s = Signer::new(&camera.username, &camera.password, &c);
    assert_eq!(signed_keepalive(&app, &stranger, &s, 1).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn credentials_can_be_set_later_and_changed() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let site = app.create_site(&tenant.token, "Lobby", ZONE).await;
    let mut camera = Camera::new(&unique_sn(), "ops", "first-password");
    let device = app.bind_device(&tenant.token, &camera.sn, &site, "ipc").await;
    let id = device["id"].as_str().unwrap().to_string();
    assert!(device["username"].is_null());

    // Without credentials the camera cannot sign in.
    let c = challenge(&app, &camera.sn).await;
    let s = Signer::new(&camera.username, &camera.password, &c);
    assert_eq!(
        signed_keepalive(&app, &camera.sn, &s, 1).await,
        StatusCode::UNAUTHORIZED
    );

    // Half a credential, or one for a people counter, is refused.
    let a = app
        .post(
            "/api/v1/devices",
            &tenant.token,
            json!({"sn": unique_sn(), "siteId": site, "protocol": "ipc", "username": "only"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let a = app
        .post(
            "/api/v1/devices",
            &tenant.token,
            json!({"sn": unique_sn(), "siteId": site, "protocol": "people_counter", "username": "u", "password": "p"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let a = put(
        &app,
        &tenant.token,
        &format!("/api/v1/devices/{id}/credentials"),
        json!({"username": "", "password": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);

    let a = put(
        &app,
        &tenant.token,
        &format!("/api/v1/devices/{id}/credentials"),
        json!({"username": "ops", "password": "first-password"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["username"], "ops");
    app.keepalive(&mut camera).await;

    // A viewer may not change them; an owner may, over GraphQL too, and
    // the old password stops working at once.
    let viewer = app.add_user(&tenant, "viewer").await;
    let a = put(
        &app,
        &viewer,
        &format!("/api/v1/devices/{id}/credentials"),
        json!({"username": "ops", "password": "mine now"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($id: ID!) { setDeviceCredentials(id: $id, username: \"ops\", password: \"second-password\") { username } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(g.body["data"]["setDeviceCredentials"]["username"], "ops", "{}", g.text);
    let stale_signer = camera.signer.clone().unwrap();
    assert_eq!(
        signed_keepalive(&app, &camera.sn, &stale_signer, 100).await,
        StatusCode::UNAUTHORIZED
    );
    camera.password = "second-password".into();
    camera.signer = None;
    app.keepalive(&mut camera).await;
}

#[tokio::test]
async fn an_expired_nonce_is_challenged_again_as_stale() {
    let app = spawn_app_with(|c| c.digest_nonce_ttl_secs = 1).await;
    let tenant = app.signup("Acme").await;
    let (_, _, camera) = site_with_camera(&app, &tenant).await;
    let c = challenge(&app, &camera.sn).await;
    let s = Signer::new(&camera.username, &camera.password, &c);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;

    let auth = s.authorization("GET", "/v1/device/keepalive", 1);
    let a = app
        .camera_request(
            Method::GET,
            "/v1/device/keepalive",
            Some(&camera.sn),
            Some(&auth),
            vec![],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let again = Challenge::of(&a);
    assert!(again.stale, "right password, old nonce: stale=true");
    assert_ne!(again.nonce, c.nonce);

    // A wrong password with the old nonce is not called stale.
    let mut wrong = s.clone();
    wrong.password = "guess".into();
    let a = app
        .camera_request(
            Method::GET,
            "/v1/device/keepalive",
            Some(&camera.sn),
            Some(&wrong.authorization("GET", "/v1/device/keepalive", 2)),
            vec![],
        )
        .await;
    assert!(!Challenge::of(&a).stale);

    let fresh = Signer::new(&camera.username, &camera.password, &again);
    assert_eq!(signed_keepalive(&app, &camera.sn, &fresh, 1).await, StatusCode::OK);
}

#[tokio::test]
async fn sha_256_digest_when_configured() {
    let app = spawn_app_with(|c| c.digest_algorithm = "SHA-256".into()).await;
    let tenant = app.signup("Acme").await;
    let (_, _, mut camera) = site_with_camera(&app, &tenant).await;
    let c = challenge(&app, &camera.sn).await;
    assert_eq!(c.algorithm, "SHA-256");
    assert_eq!(app.keepalive(&mut camera).await["keepinterval"], 60);
}

#[tokio::test]
async fn a_nonce_from_one_instance_is_good_at_another() {
    let app = spawn_app().await;
    let twin = app.spawn_twin().await;
    let tenant = app.signup("Acme").await;
    let (_, _, camera) = site_with_camera(&app, &tenant).await;
    let c = challenge(&app, &camera.sn).await;
    let s = Signer::new(&camera.username, &camera.password, &c);
    assert_eq!(signed_keepalive(&twin, &camera.sn, &s, 1).await, StatusCode::OK);
    assert_eq!(signed_keepalive(&app, &camera.sn, &s, 2).await, StatusCode::OK);
    if std::env::var("REDIS_URL").is_ok() {
        // Nonce counts are shared through Redis: a replay at the other
        // instance is refused too.
        assert_eq!(
            signed_keepalive(&twin, &camera.sn, &s, 2).await,
            StatusCode::UNAUTHORIZED
        );
    }
}

async fn send_tlv(app: &TestApp, camera: &mut Camera, body: Vec<u8>) -> footfall_e2e::Answer {
    let a = app
        .camera_send(camera, Method::POST, "/v1/device/tlv_report", body)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["method"], "tlv_report");
    a
}

#[tokio::test]
async fn tlv_people_counts_become_footfall_and_occupancy() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, mut camera) = site_with_camera(&app, &tenant).await;
    let day = yesterday();
    let sn = camera.sn.clone();
    let at = |h: i64, m: i64| pts(day + h * 3600 + m * 60);

    // Running totals since the camera's midnight (TOTAL, the default):
    // 10:00 3/1/5, 10:05 7/3/11 (sent twice, and once more batched with a
    // later record), 10:10 the camera restarted and counted 2/0/0 since.
    for body in [
        tlv::counts(&sn, at(10, 0), 3, 1, 5, 2),
        tlv::counts(&sn, at(10, 5), 7, 3, 11, 4),
        tlv::counts(&sn, at(10, 5), 7, 3, 11, 4),
        [
            tlv::counts(&sn, at(10, 5), 7, 3, 11, 4),
            tlv::counts(&sn, at(10, 10), 2, 0, 0, 2),
        ]
        .concat(),
    ] {
        let a = send_tlv(&app, &mut camera, body).await;
        assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);
    }
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(ff["totals"]["in"], 9, "{ff}");
    assert_eq!(ff["totals"]["out"], 3);
    assert_eq!(ff["totals"]["passby"], 11);
    // The first total covers midnight to 10:00; what came after it, 10:xx.
    let hours = app.footfall(&tenant.token, &site, day, day + 86_400, "HOUR").await;
    let ten_local = format!("{}T10:00:00+08:00", &wall_clock(day)[..10]);
    let (mut before_ten, mut at_ten) = (0, 0);
    for b in hours["buckets"].as_array().unwrap() {
        let start = b["start"].as_str().unwrap();
        let n = b["in"].as_u64().unwrap_or(0);
        match start.cmp(ten_local.as_str()) {
            std::cmp::Ordering::Less => before_ten += n,
            std::cmp::Ordering::Equal => at_ten += n,
            std::cmp::Ordering::Greater => assert_eq!(n, 0, "{b}"),
        }
    }
    assert_eq!((before_ten, at_ten), (3, 6), "{hours}");

    // ADD mode: each report counts the people since the previous one; a
    // retransmission is the same reading.
    let a = put(
        &app,
        &tenant.token,
        &format!("/api/v1/devices/{device}/config"),
        json!({"dataMode": "ADD"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    for body in [
        tlv::counts(&sn, at(11, 0), 1, 1, 0, 0),
        tlv::counts(&sn, at(11, 5), 2, 0, 1, 0),
        tlv::counts(&sn, at(11, 5), 2, 0, 1, 0),
    ] {
        send_tlv(&app, &mut camera, body).await;
    }
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(
        (&ff["totals"]["in"], &ff["totals"]["out"], &ff["totals"]["passby"]),
        (&json!(12), &json!(4), &json!(12)),
        "{ff}"
    );

    // "keep" is the people inside now: the site's occupancy.
    let t = now();
    send_tlv(&app, &mut camera, tlv::counts(&sn, pts(t), 0, 0, 0, 4)).await;
    let occ = app.get(&format!("/api/v1/sites/{site}/occupancy"), &tenant.token).await;
    assert_eq!(occ.status, StatusCode::OK, "{}", occ.text);
    assert_eq!(occ.body["current"], 4, "{}", occ.text);
    assert_eq!(occ.body["source"], "STAY");

    // A camera clock in 1990 is refused, not filed on the wrong day.
    let before = app.footfall(&tenant.token, &site, day, t + 3600, "DAY").await["totals"].clone();
    let a = send_tlv(&app, &mut camera, tlv::counts(&sn, 631_152_000_000, 50, 0, 0, 0)).await;
    assert_eq!(a.body["error"]["errorcode"], -1, "{}", a.text);
    assert!(
        a.body["error"]["errormsg"].as_str().unwrap().contains("clock"),
        "{}",
        a.text
    );
    let after = app.footfall(&tenant.token, &site, day, t + 3600, "DAY").await["totals"].clone();
    assert_eq!(before, after);
}

fn alarm(sn: &str, at: i64, uuid: &str) -> Value {
    json!({"method": "alarm_report", "param": {
        "device_id": sn, "device_name": "HD IPC", "channel_id": 1,
        "alarm_type": "ebike_detection", "alarm_msg": "e-bike in the lift", "status": 1,
        "time": wall_clock(at), "alarm_uuid": uuid,
        "jpeg_base64": BASE64.encode(JPEG),
        "extends": BASE64.encode(json!({"plate_no": "京J66666", "score": 97}).to_string()),
    }})
}

#[tokio::test]
async fn alarms_events_snapshots_and_sensors_are_kept() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, mut camera) = site_with_camera(&app, &tenant).await;
    let sn = camera.sn.clone();
    let day = yesterday();
    let nine = day + 9 * 3600;

    // An alarm, sent twice with the same uuid: one event.
    for _ in 0..2 {
        let a = app
            .camera_report(
                &mut camera,
                "/v1/uns/reviceMonitorPointRecord/alarm_report",
                &alarm(&sn, nine, "uuid-1"),
            )
            .await;
        assert_eq!(
            a.body,
            json!({"method": "alarm_report", "error": {"errorcode": 0, "errormsg": ""}})
        );
    }
    // An analytics event, and a timed snapshot (event 3) which is no alarm.
    let event = |category: i64, kind: &str, at: i64| {
        json!({"method": "event_report", "param": {
            "device_id": sn, "channel_id": "1", "event": category, "type": kind,
            "typename": "E-bike", "status": "1", "time": wall_clock(at),
            "jpeg_base64": BASE64.encode(JPEG), "extern": ""}})
    };
    for body in [event(1, "ebike_det", nine + 60), event(3, "timing_snap", nine + 120)] {
        let a = app.camera_report(&mut camera, "/v1/device/event_report", &body).await;
        assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);
    }
    let a = app
        .camera_report(
            &mut camera,
            "/v1/device/snap_report",
            &json!({"method": "snap_report", "mid": "m-77", "param": {"deviceName": "HD IPC", "name": "snap.jpg", "jpegBase64": BASE64.encode(JPEG)}}),
        )
        .await;
    assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);

    // A face with its snapshot and cut-out, from TLV metadata.
    let face = tlv::record(
        b"META",
        &[
            tlv::field(0x1, &1u32.to_be_bytes()),
            tlv::field(0x3, sn.as_bytes()),
            tlv::field(0x4, &2u32.to_be_bytes()),
            tlv::field(0x5, &(pts(nine + 180) as u64).to_be_bytes()),
            tlv::field(0x10002, &1u32.to_be_bytes()),
            tlv::field(0x9, CUTOUT),
            tlv::field(0xA, JPEG),
        ],
    );
    let a = send_tlv(&app, &mut camera, face).await;
    assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);

    let all = events(&app, &tenant.token, &device, "").await;
    let kinds: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e["source"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(all.len(), 5, "{kinds:?}");
    for expected in [
        ("alarm", "ebike_detection"),
        ("event", "ebike_det"),
        ("snapshot", "timing_snap"),
        ("snapshot", "snapshot"),
        ("metadata", "face"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }

    let alarms = events(&app, &tenant.token, &device, "source=alarm").await;
    assert_eq!(alarms.len(), 1);
    let a = &alarms[0];
    assert_eq!(a["name"], "e-bike in the lift");
    assert_eq!(a["status"], "start");
    assert_eq!(a["channel"], 1);
    assert_eq!(a["localTime"], wall_clock(nine));
    assert_eq!(a["at"], rfc3339(nine), "local time read in the site's zone");
    assert_eq!(a["attributes"]["extends"]["plate_no"], "京J66666");
    assert_eq!(a["attributes"]["alarmUuid"], "uuid-1");
    let image = app
        .client
        .get(app.url(a["imageUrl"].as_str().unwrap()))
        .bearer_auth(&tenant.token)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(image.bytes().await.unwrap().as_ref(), JPEG);

    let face = events(&app, &tenant.token, &device, "kind=face").await;
    assert_eq!(face.len(), 1);
    assert_eq!(face[0]["channel"], 2);
    assert_eq!(face[0]["attributes"]["gender"], 1, "{}", face[0]);
    let url = app.url(&format!("{}?cutout=true", face[0]["imageUrl"].as_str().unwrap()));
    let cutout = app.client.get(url).bearer_auth(&tenant.token).send().await.unwrap();
    assert_eq!(cutout.bytes().await.unwrap().as_ref(), CUTOUT);

    // The site's alarms per local day: the alarm and the analytics event.
    let counts = app
        .get(
            &format!(
                "/api/v1/sites/{site}/alarm-counts?from={}&to={}",
                rfc3339(day),
                rfc3339(day + 86_400)
            ),
            &tenant.token,
        )
        .await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.text);
    assert_eq!(counts.body.as_array().unwrap().len(), 1, "{}", counts.text);
    assert_eq!(counts.body[0]["alarms"], 2, "{}", counts.text);
    assert_eq!(
        counts.body[0]["start"],
        format!("{}T00:00:00+08:00", &wall_clock(day)[..10])
    );

    // Temperatures and modbus registers.
    let temper = json!({"method": "report_temper_data", "param": {
        "device_id": sn, "channel_id": 1, "time": wall_clock(nine),
        "temper_rect": [
            {"id": 0, "name": "boiler", "temper": 30.5, "over_threshold": 100},
            {"id": 1, "name": "door", "temper": "101.25", "over_threshold": 100}]}});
    let a = app
        .camera_report(
            &mut camera,
            "/v1/uns/reviceMonitorPointRecord/report_temper_data",
            &temper,
        )
        .await;
    assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);
    let modbus = json!({"deviceId": sn, "time": wall_clock(nine), "data": {"@1": 12.5, "@3": "7"}, "alarm": {"@3": 1}});
    let a = app.camera_report(&mut camera, "/rs/env/reportData.do", &modbus).await;
    assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);

    let latest = app
        .get(&format!("/api/v1/devices/{device}/temperatures/latest"), &tenant.token)
        .await;
    assert_eq!(latest.status, StatusCode::OK, "{}", latest.text);
    let mut regions: Vec<(String, f64, i64)> = latest
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["value"].as_f64().unwrap(),
                r["alarm"].as_i64().unwrap(),
            )
        })
        .collect();
    regions.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        regions,
        [("boiler".to_string(), 30.5, 0), ("door".to_string(), 101.25, 1)]
    );
    let registers = app
        .get(
            &format!("/api/v1/devices/{device}/sensor-readings?kind=modbus"),
            &tenant.token,
        )
        .await;
    let items = registers.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", registers.text);
    let r3 = items.iter().find(|r| r["key"] == "@3").unwrap();
    assert_eq!((r3["value"].as_f64(), r3["alarm"].as_i64()), (Some(7.0), Some(1)));

    // GraphQL reads the same.
    let g = app
        .graphql(
            Some(&tenant.token),
            "query($d: ID!, $s: ID!, $from: DateTime!, $to: DateTime!) {
               device(id: $d) { cameraEvents(filter: {source: ALARM}) { nodes { id kind imageUrl } }
                                latestTemperatures { key value } }
               site(id: $s) { alarmCounts(from: $from, to: $to) { alarms } } }",
            json!({"d": device, "s": site, "from": rfc3339(day), "to": rfc3339(day + 86_400)}),
        )
        .await;
    let data = &g.body["data"];
    assert_eq!(
        data["device"]["cameraEvents"]["nodes"][0]["kind"], "ebike_detection",
        "{}",
        g.text
    );
    assert_eq!(data["device"]["latestTemperatures"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["site"]["alarmCounts"][0]["alarms"], 2);
    let id = data["device"]["cameraEvents"]["nodes"][0]["id"].as_str().unwrap();
    let g = app
        .graphql(
            Some(&tenant.token),
            "query($id: ID!) { cameraEvent(id: $id) { kind source attributes } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(g.body["data"]["cameraEvent"]["source"], "ALARM", "{}", g.text);
}

#[tokio::test]
async fn malformed_camera_reports_are_refused_in_the_protocols_shape() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, mut camera) = site_with_camera(&app, &tenant).await;
    let sn = camera.sn.clone();
    let bodies: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            "alarm_report",
            b"{not json".to_vec(),
        ),
        (
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            "alarm_report",
            b"[1,2,3]".to_vec(),
        ),
        (
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            "alarm_report",
            b"".to_vec(),
        ),
        (
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            "alarm_report",
            json!({"method": "alarm_report", "param": {"time": "2026-11-21 09:00:00"}})
                .to_string()
                .into_bytes(),
        ),
        (
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            "alarm_report",
            json!({"method": "alarm_report", "param": "alarm"})
                .to_string()
                .into_bytes(),
        ),
        (
            "/v1/device/event_report",
            "event_report",
            json!({"param": {"event": "one"}}).to_string().into_bytes(),
        ),
        ("/v1/device/event_report", "event_report", vec![0xFF, 0xFE, 0x00]),
        (
            "/v1/device/snap_report",
            "snap_report",
            json!({"param": {"name": "x.jpg"}}).to_string().into_bytes(),
        ),
        (
            "/v1/uns/reviceMonitorPointRecord/report_temper_data",
            "report_temper_data",
            json!({"param": {"temper_rect": "hot"}}).to_string().into_bytes(),
        ),
        (
            "/v1/uns/reviceMonitorPointRecord/report_temper_data",
            "report_temper_data",
            json!({"param": {"temper_rect": [{"id": 0, "temper": 20}, {"id": 1, "temper": "warm"}]}})
                .to_string()
                .into_bytes(),
        ),
        (
            "/rs/env/reportData.do",
            "reportData",
            json!({"data": "@1=3"}).to_string().into_bytes(),
        ),
        (
            "/rs/env/reportData.do",
            "reportData",
            json!({"data": {"@1": 3, "@2": [1]}}).to_string().into_bytes(),
        ),
        ("/v1/device/tlv_report", "tlv_report", b"META".to_vec()),
        ("/v1/device/tlv_report", "tlv_report", {
            let mut r = tlv::counts(&sn, pts(now()), 1, 0, 0, 0);
            r.truncate(r.len() - 3);
            r
        }),
        ("/v1/device/tlv_report", "tlv_report", {
            // A length that claims 4 GiB.
            let mut r = b"META".to_vec();
            r.extend_from_slice(&u32::MAX.to_be_bytes());
            r.extend_from_slice(&[0; 16]);
            r
        }),
        (
            "/v1/device/tlv_report",
            "tlv_report",
            tlv::record(b"XXXX", &[tlv::field(0x1, &5u32.to_be_bytes())]),
        ),
        // A good record, then one whose clock cannot be read: all or nothing.
        (
            "/v1/device/tlv_report",
            "tlv_report",
            [
                tlv::counts(&sn, pts(now()), 1, 0, 0, 0),
                tlv::counts(&sn, 0x7FFF_FFFF_FFFF_FFFF, 1, 0, 0, 0),
            ]
            .concat(),
        ),
        (
            "/v1/device/tlv_report",
            "tlv_report",
            [
                tlv::counts(&sn, pts(now()), 1, 0, 0, 0),
                tlv::record(
                    b"META",
                    &[tlv::field(0x1, &5u32.to_be_bytes()), tlv::field(0x40001, &[0, 0, 9])],
                ),
            ]
            .concat(),
        ),
    ];
    for (path, method, body) in bodies {
        let a = app.camera_send(&mut camera, Method::POST, path, body.clone()).await;
        assert_eq!(a.status, StatusCode::OK, "{path} {body:?}: {}", a.text);
        assert_eq!(a.body["method"], method, "{}", a.text);
        assert_eq!(
            a.body["error"]["errorcode"],
            -1,
            "{path} {:?}: {}",
            String::from_utf8_lossy(&body),
            a.text
        );
        assert!(
            !a.body["error"]["errormsg"].as_str().unwrap().is_empty(),
            "a reason for {path}"
        );
    }
    assert!(
        events(&app, &tenant.token, &device, "").await.is_empty(),
        "no event stored"
    );
    let readings = app
        .get(&format!("/api/v1/devices/{device}/sensor-readings"), &tenant.token)
        .await;
    assert_eq!(readings.body["items"], json!([]), "no reading stored half-way");
    let t = now();
    let ff = app.footfall(&tenant.token, &site, t - 86_400, t + 3600, "DAY").await;
    assert_eq!(ff["totals"]["in"], 0, "no count from a half-good TLV body: {ff}");

    // Oversized bodies are refused before anything is read.
    let huge = vec![b' '; 40 * 1024 * 1024];
    let a = app
        .camera_request(Method::POST, "/v1/device/tlv_report", Some(&sn), None, huge)
        .await;
    assert!(
        a.status == StatusCode::PAYLOAD_TOO_LARGE || a.status == StatusCode::UNAUTHORIZED,
        "{} {}",
        a.status,
        a.text
    );
}

#[tokio::test]
async fn another_tenant_sees_nothing_of_a_camera() {
    let app = spawn_app().await;
    let a = app.signup("Acme").await;
    let b = app.signup("Rival").await;
    let (site, device, mut camera) = site_with_camera(&app, &a).await;
    let day = yesterday();
    let sn = camera.sn.clone();
    let r = app
        .camera_report(
            &mut camera,
            "/v1/uns/reviceMonitorPointRecord/alarm_report",
            &alarm(&sn, day + 3600, "u-9"),
        )
        .await;
    assert_eq!(r.body["error"]["errorcode"], 0, "{}", r.text);
    let temper = json!({"param": {"temper_rect": [{"id": 0, "temper": 21}]}});
    app.camera_report(
        &mut camera,
        "/v1/uns/reviceMonitorPointRecord/report_temper_data",
        &temper,
    )
    .await;
    let event = events(&app, &a.token, &device, "").await[0].clone();
    let id = event["id"].as_str().unwrap();
    let range = format!("from={}&to={}", rfc3339(day), rfc3339(day + 86_400));

    for path in [
        format!("/api/v1/devices/{device}/camera-events"),
        format!("/api/v1/sites/{site}/camera-events"),
        format!("/api/v1/camera-events/{id}"),
        format!("/api/v1/camera-events/{id}/image"),
        format!("/api/v1/devices/{device}/sensor-readings"),
        format!("/api/v1/devices/{device}/temperatures/latest"),
        format!("/api/v1/sites/{site}/alarm-counts?{range}"),
    ] {
        let theirs = app.get(&path, &b.token).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{path}: {}", theirs.text);
        assert!(!theirs.text.contains(&sn) && !theirs.text.contains("ebike"), "{path}");
        let ours = app.get(&path, &a.token).await;
        assert_eq!(ours.status, StatusCode::OK, "{path}: {}", ours.text);
    }
    let g = app
        .graphql(
            Some(&b.token),
            "query($id: ID!) { cameraEvent(id: $id) { kind } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(g.body["data"]["cameraEvent"], Value::Null, "{}", g.text);

    // Nor can it take over the camera's credentials.
    let r = put(
        &app,
        &b.token,
        &format!("/api/v1/devices/{device}/credentials"),
        json!({"username": "x", "password": "y"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The other tenant's own site lists no camera events.
    let their_site = app.create_site(&b.token, "Theirs", ZONE).await;
    let r = app
        .get(&format!("/api/v1/sites/{their_site}/camera-events"), &b.token)
        .await;
    assert_eq!(r.body["items"], json!([]));
}

/// Runs a program; fails the test clearly if it is not installed.
fn run(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (apt-get install {program}): {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether curl and python3 with `requests` are installed. `.ci/run`
/// installs them and sets `FOOTFALL_REAL_CLIENTS=required`, so there their
/// absence fails the test; on a bare machine the test says it did not run.
fn real_clients_present() -> bool {
    let present = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let ok = present("curl", &["--version"]) && present("python3", &["-c", "import requests"]);
    if !ok {
        assert!(
            std::env::var("FOOTFALL_REAL_CLIENTS").as_deref() != Ok("required"),
            "curl and python3-requests are required here (apt-get install curl python3-requests)"
        );
        eprintln!("not run: curl or python3-requests is not installed (apt-get install curl python3-requests)");
    }
    ok
}

#[tokio::test]
async fn real_digest_clients_sign_in() {
    if !real_clients_present() {
        return;
    }
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, _, camera) = site_with_camera(&app, &tenant).await;
    let url = app.url("/v1/device/keepalive");
    let user = format!("{}:{}", camera.username, camera.password);
    let sn_header = format!("User-Identify: {}", camera.sn);

    let out = tokio::task::spawn_blocking({
        let (url, user, sn_header) = (url.clone(), user.clone(), sn_header.clone());
        move || run("curl", &["-sS", "--digest", "-u", &user, "-H", &sn_header, &url])
    })
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("curl got {out}"));
    assert_eq!(v["error"]["errorcode"], 0, "{out}");
    assert_eq!(v["keepinterval"], 60);

    // python-requests posting binary TLV with HTTPDigestAuth.
    let t = now();
    let body = BASE64.encode(tlv::counts(&camera.sn, pts(t), 6, 2, 1, 4));
    let script = format!(
        "import base64, requests\n\
         from requests.auth import HTTPDigestAuth\n\
         r = requests.post({url:?}, data=base64.b64decode({body:?}),\n\
             headers={{'User-Identify': {sn:?}, 'Content-Type': 'application/octet-stream'}},\n\
             auth=HTTPDigestAuth({u:?}, {p:?}))\n\
         print(r.status_code, r.text)\n",
        url = app.url("/v1/device/tlv_report"),
        sn = camera.sn,
        u = camera.username,
        p = camera.password,
    );
    let out = tokio::task::spawn_blocking(move || run("python3", &["-c", &script]))
        .await
        .unwrap();
    assert!(out.starts_with("200 "), "{out}");
    let v: Value = serde_json::from_str(out[4..].trim()).unwrap();
    assert_eq!(v["error"]["errorcode"], 0, "{out}");
    let ff = app.footfall(&tenant.token, &site, t - 86_400, t + 3600, "DAY").await;
    assert_eq!(ff["totals"]["in"], 6, "{ff}");

    // And a wrong password gets curl a 401.
    let out = tokio::task::spawn_blocking(move || {
        run(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--digest",
                "-u",
                "admin:nope",
                "-H",
                &sn_header,
                &url,
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(out, "401");
}

#[tokio::test]
async fn nul_characters_from_a_camera_are_stored_not_fatal() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (_, device, mut camera) = site_with_camera(&app, &tenant).await;
    let sn = camera.sn.clone();

    // JSON `\u0000` in values and keys, and raw NUL bytes in a refused body.
    let body = json!({"method": "alarm_report", "param": {
        "alarm_type": "ebike\u{0}", "alarm_msg": "in\u{0}lift", "time": wall_clock(now()),
        "extends": BASE64.encode(json!({"plate\u{0}": "A\u{0}1"}).to_string())}});
    let a = app
        .camera_report(&mut camera, "/v1/uns/reviceMonitorPointRecord/alarm_report", &body)
        .await;
    assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);
    let ocr = tlv::record(
        b"META",
        &[
            tlv::field(0x1, &15u32.to_be_bytes()),
            tlv::field(0x3, sn.as_bytes()),
            tlv::field(0xa0004, b"AB\0CD\0\0"),
        ],
    );
    let a = send_tlv(&app, &mut camera, ocr).await;
    assert_eq!(a.body["error"]["errorcode"], 0, "{}", a.text);
    let a = app
        .camera_send(&mut camera, Method::POST, "/v1/device/event_report", b"{\0}".to_vec())
        .await;
    assert_eq!(a.body["error"]["errorcode"], -1, "{}", a.text);

    let stored = events(&app, &tenant.token, &device, "").await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    let alarm = stored.iter().find(|e| e["source"] == "alarm").unwrap();
    assert_eq!(alarm["kind"], "ebike\u{fffd}");
    assert_eq!(alarm["name"], "in\u{fffd}lift");
    assert_eq!(alarm["attributes"]["extends"]["plate\u{fffd}"], "A\u{fffd}1");
    let ocr = stored.iter().find(|e| e["kind"] == "ocr").unwrap();
    assert_eq!(ocr["name"], "AB\u{fffd}CD");
}
