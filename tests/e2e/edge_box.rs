//! Edge boxes end to end (PROTOCOLS.md §4): the vendor's "vehicle leave"
//! sample, posted as the box posts it, and what the tenant then reads.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use footfall_e2e::{TestApp, now, rfc3339, spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::{Value, json};

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 0xFF, 0xD9];

/// The document's sample push (its `bg` a real base64 image), for `uuid`,
/// `msg_id`, vehicles left `left` and present `present`, at `at_ms`.
fn sample(uuid: &str, msg_id: &str, left: i64, present: i64, at_ms: i64) -> Value {
    json!({
        "message": {
            "channelInfo": {"channel": 1, "comment": "", "name": "\u{901a}\u{9053}1"},
            "data": {
                "bg": BASE64.encode(JPEG),
                "bgHeight": 1080,
                "bgWidth": 1920,
                "dynamicInfo": "",
                "eventDesc": "\u{53d1}\u{73b0}\u{8f86}\u{8f66}\u{79bb}\u{5f00}",
                "eventInfo": [
                    {"count": present, "eventName": "\u{8f66}\u{8f86}\u{5728}\u{573a}"},
                    {"count": left, "eventName": "\u{8f66}\u{8f86}\u{79bb}\u{5f00}"}
                ],
                "frameIndex": 7943,
                "linkId": "398654df-7814-4e67-a38f-9f3e550c10ba",
                "normalized": 0,
                "preWarn": "pre_offvehicle",
                "regionInfo": [{"id": "1", "locations": [{"x": 128, "y": 45}, {"x": 1885, "y": 45},
                    {"x": 1885, "y": 1038}, {"x": 52, "y": 1038}], "name": "\u{5206}\u{6790}\u{533a}", "type": "analysis_area"}],
                "style": {"color": "RED", "renderType": 1, "strokeWidth": 3},
                "targetBasicInfo": [],
                "timestamp": at_ms
            },
            "deviceInfo": {"id": uuid, "name": "\u{89c6}\u{9891}\u{5206}\u{6790}\u{76d2}AB-H1", "uuid": uuid},
            "netInfo": [{"dns": "8.8.8.8", "gateway": "192.168.1.111", "ip": "192.168.1.198",
                "mac": "E0:A5:09:00:76:AD", "netmask": "255.255.255.0"}],
            "requestTime": at_ms + 20,
            "skillInfo": {"id": "offvehicle", "name": "\u{8f66}\u{8f86}\u{79bb}\u{5f00}", "version": "2.0.0.0"}
        },
        "msg_id": msg_id,
        "wsKey": "eventCreateOptimize"
    })
}

async fn push(app: &TestApp, body: &str) -> (StatusCode, Value) {
    let a = app.device("/dataPush/DataReportCB", body).await;
    (a.status, a.body)
}

async fn vehicles(app: &TestApp, token: &str, site: &str, from: i64, granularity: &str) -> footfall_e2e::Answer {
    app.get(
        &format!(
            "/api/v1/sites/{site}/vehicle-counts?from={}&to={}&granularity={granularity}",
            rfc3339(from),
            rfc3339(from + 86_400)
        ),
        token,
    )
    .await
}

#[tokio::test]
async fn vehicle_leave_pushes_become_vehicle_counts_and_events() {
    let app = spawn_app().await;
    let tenant = app.signup("Parking").await;
    let site = app.create_site(&tenant.token, "Car park", "Asia/Shanghai").await;
    let uuid = unique_sn();
    let device = app.bind_device(&tenant.token, &uuid, &site, "edge_box").await;
    let device = device["id"].as_str().unwrap().to_string();
    let at = (now() - 3600) * 1000;

    let (status, answer) = push(&app, &sample(&uuid, "m-1", 2, 0, at).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["wsKey"], "eventCreateOptimizeResult");
    assert_eq!(answer["msg_id"], "m-1");
    assert_eq!(answer["code"], 0, "{answer}");
    assert_eq!(answer["message"], "success");
    assert!((answer["timestamp"].as_i64().unwrap() - now()).abs() < 5);

    // msg_id is the idempotency key; a new message counts again.
    assert_eq!(
        push(&app, &sample(&uuid, "m-1", 2, 0, at).to_string()).await.1["code"],
        0
    );
    assert_eq!(
        push(&app, &sample(&uuid, "m-2", 3, 1, at + 60_000).to_string()).await.1["code"],
        0
    );

    let day = now() - 86_400 / 2;
    let v = vehicles(&app, &tenant.token, &site, day, "DAY").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(v.body["totals"], json!({"in": 0, "out": 5, "pass": 0}), "{}", v.text);
    let hours = vehicles(&app, &tenant.token, &site, at / 1000 - 1800, "HOUR").await;
    let hour = hours.body["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["out"].as_u64().unwrap() > 0)
        .unwrap()
        .clone();
    assert_eq!(hour["out"], 5, "both pushes in one local hour: {}", hours.text);
    assert!(hour["start"].as_str().unwrap().ends_with("+08:00"));
    // People footfall is untouched by vehicles.
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(ff["totals"]["out"], 0);

    // Each message is one event with its image and what the box said.
    let events = app
        .get(&format!("/api/v1/devices/{device}/camera-events"), &tenant.token)
        .await;
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", events.text);
    let first = items.iter().find(|e| e["attributes"]["msgId"] == "m-1").unwrap();
    assert_eq!(first["kind"], "offvehicle");
    assert_eq!(first["name"], "\u{53d1}\u{73b0}\u{8f86}\u{8f66}\u{79bb}\u{5f00}");
    assert_eq!(first["channel"], 1);
    assert_eq!(first["at"], rfc3339(at / 1000));
    assert_eq!(first["attributes"]["regionInfo"][0]["type"], "analysis_area");
    assert_eq!(first["attributes"]["vehiclesPresent"], 0);
    let image = app
        .client
        .get(app.url(first["imageUrl"].as_str().unwrap()))
        .bearer_auth(&tenant.token)
        .send()
        .await
        .unwrap();
    assert_eq!(image.bytes().await.unwrap().as_ref(), JPEG);

    // GraphQL reads the same counts.
    let g = app
        .graphql(
            Some(&tenant.token),
            "query($s: ID!, $from: DateTime!, $to: DateTime!) { site(id: $s) { vehicleCounts(from: $from, to: $to, granularity: DAY) { out pass } } }",
            json!({"s": site, "from": rfc3339(day), "to": rfc3339(day + 86_400)}),
        )
        .await;
    let days = g.body["data"]["site"]["vehicleCounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        days.iter().map(|d| d["out"].as_u64().unwrap()).sum::<u64>(),
        5,
        "{}",
        g.text
    );

    // Another tenant sees none of it.
    let other = app.signup("Rival").await;
    let theirs = vehicles(&app, &other.token, &site, day, "DAY").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_edge_box_pushes_are_refused_cleanly() {
    let app = spawn_app().await;
    let tenant = app.signup("Parking").await;
    let site = app.create_site(&tenant.token, "Car park", "UTC").await;
    let uuid = unique_sn();
    app.bind_device(&tenant.token, &uuid, &site, "edge_box").await;
    let at = (now() - 600) * 1000;

    // Not bound, or bound as another kind of device: code 1.
    let (_, a) = push(&app, &sample(&unique_sn(), "x", 1, 0, at).to_string()).await;
    assert_eq!(a["code"], 1, "{a}");
    let counter = unique_sn();
    app.bind_device(&tenant.token, &counter, &site, "people_counter").await;
    let (_, a) = push(&app, &sample(&counter, "x", 1, 0, at).to_string()).await;
    assert_eq!(a["code"], 1, "{a}");

    let mut negative = sample(&uuid, "neg", 1, 0, at);
    negative["message"]["data"]["eventInfo"][1]["count"] = json!(-4);
    let mut far_future = sample(&uuid, "future", 1, 0, at);
    far_future["message"]["data"]["timestamp"] = json!(at + 10 * 86_400_000);
    let mut no_data = sample(&uuid, "nodata", 1, 0, at);
    no_data["message"]["data"] = json!("none");
    let mut no_id = sample(&uuid, "noid", 1, 0, at);
    no_id["message"]["deviceInfo"] = json!({});
    for (what, body) in [
        ("not JSON", "{\"wsKey\": ".to_string()),
        ("an array", "[]".to_string()),
        (
            "no message",
            json!({"wsKey": "eventCreateOptimize", "msg_id": "a"}).to_string(),
        ),
        ("no device id", no_id.to_string()),
        ("negative count", negative.to_string()),
        ("a clock ten days ahead", far_future.to_string()),
        ("data not an object", no_data.to_string()),
    ] {
        let (status, a) = push(&app, &body).await;
        assert_eq!(status, StatusCode::OK, "{what}");
        assert_eq!(a["code"], 2, "{what}: {a}");
        assert!(!a["message"].as_str().unwrap().is_empty(), "{what}");
        assert_eq!(a["wsKey"], "eventCreateOptimizeResult");
    }
    let v = vehicles(&app, &tenant.token, &site, now() - 43_200, "DAY").await;
    assert_eq!(v.body["totals"]["out"], 0, "nothing stored: {}", v.text);
}
