//! 3D people counters end to end: the tests act as the device, over the real
//! endpoints, and check the tenant's view of what was counted.

use footfall_e2e::{Tenant, TestApp, now, rfc3339, spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Start of a UTC day two days ago: inside the 90-day history window, past.
fn day_start() -> i64 {
    (now() / 86_400 - 2) * 86_400
}

async fn bound_counter(app: &TestApp, tenant: &Tenant, timezone: &str) -> (String, String, String) {
    let site = app.create_site(&tenant.token, "Store", timezone).await;
    let sn = unique_sn();
    let device = app.bind_device(&tenant.token, &sn, &site, "people_counter").await;
    (site, device["id"].as_str().unwrap().to_string(), sn)
}

fn counts(in_: u64, out: u64, passby: u64, turnback: u64) -> Value {
    json!({"in": in_, "out": out, "passby": passby, "turnback": turnback})
}

fn totals(footfall: &Value) -> (u64, u64, u64, u64) {
    let t = &footfall["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    (n("in"), n("out"), n("passby"), n("turnback"))
}

#[tokio::test]
async fn the_whole_story_of_a_people_counter() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, sn) = bound_counter(&app, &tenant, "Europe/London").await;
    let day = day_start();

    // First contact: the device gets the platform's default configuration.
    let hb = app.heartbeat(&format!(" {sn} ")).await;
    assert_eq!(hb["code"], 0, "{hb}");
    assert_eq!(hb["msg"], "success");
    assert_eq!(hb["data"]["uploadInterval"], 5);
    assert_eq!(hb["data"]["dataMode"], "Add");
    assert!(hb["data"]["dataStartTime"].is_null());
    let server_time = hb["data"]["time"].as_i64().unwrap();
    assert!((server_time - now()).abs() < 5);
    let d = app.get(&format!("/api/v1/devices/{device}"), &tenant.token).await.body;
    assert_eq!(d["online"], true);
    assert_eq!(d["configInSync"], true);
    assert!(d["lastSeenAt"].is_string());

    // The tenant reconfigures; the next heartbeat carries it.
    let changed = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/devices/{device}/config"),
            Some(&tenant.token),
            Some(json!({"uploadInterval": 1, "dataMode": "TOTAL"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        changed.body["config"],
        json!({"uploadInterval": 1, "dataMode": "TOTAL", "keepInterval": 60})
    );
    assert_eq!(
        changed.body["deliveredConfig"],
        json!({"uploadInterval": 5, "dataMode": "ADD", "keepInterval": 60})
    );
    assert_eq!(changed.body["configInSync"], false);
    let hb = app.heartbeat(&sn).await;
    assert_eq!(hb["data"]["uploadInterval"], 1);
    assert_eq!(hb["data"]["dataMode"], "Total");
    let d = app.get(&format!("/api/v1/devices/{device}"), &tenant.token).await.body;
    assert_eq!(
        d["deliveredConfig"],
        json!({"uploadInterval": 1, "dataMode": "TOTAL", "keepInterval": 60})
    );
    assert_eq!(d["configInSync"], true);

    // Add mode, 08:00-09:00 in 5-minute uploads, each sent twice.
    let mut truth = (0, 0, 0, 0);
    for i in 0..12 {
        let (a, b, c, t) = (i % 4 + 1, i % 3, i % 2, u64::from(i == 5));
        truth = (truth.0 + a, truth.1 + b, truth.2 + c, truth.3 + t);
        let start = day + 8 * 3600 + i64::try_from(i).unwrap() * 300;
        let mut body =
            json!({"sn": sn, "startTime": start, "endTime": start + 300, "time": start + 300, "avgStayTime": 1500});
        body.as_object_mut()
            .unwrap()
            .extend(counts(a, b, c, t).as_object().unwrap().clone());
        for _ in 0..2 {
            let ack = app.upload(body.clone()).await;
            assert_eq!(ack["code"], 0, "{ack}");
            assert_eq!(ack["data"]["sn"], sn.as_str());
        }
    }

    // Total mode from 10:00: running totals since 10:00, repeats, a late
    // total, and a counter reset at 10:25.
    let period = day + 10 * 3600;
    let totals_sent = [(300, 4u64), (600, 9), (900, 9), (1200, 15), (1500, 2), (1800, 6)];
    // What was counted: 15 before the reset, 6 after it.
    truth.0 += 15 + 6;
    let upload_total = |end: i64, value: u64| {
        json!({"sn": sn, "startTime": period, "endTime": period + end, "time": period + end,
               "in": value, "out": 0, "passby": 0, "turnback": 0})
    };
    for (end, value) in [
        totals_sent[0],
        totals_sent[1],
        totals_sent[3],
        totals_sent[1],
        totals_sent[2],
    ] {
        assert_eq!(app.upload(upload_total(end, value)).await["code"], 0);
    }
    for (end, value) in [totals_sent[4], totals_sent[5], totals_sent[5]] {
        assert_eq!(app.upload(upload_total(end, value)).await["code"], 0);
    }

    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "HOUR").await;
    assert_eq!(totals(&ff), truth, "{ff}");
    assert_eq!(ff["buckets"].as_array().unwrap().len(), 24);
    assert_eq!(ff["buckets"][8]["avgStayTime"], 1500);
    assert_eq!(ff["buckets"][10]["in"], 21);

    // An outage from 12:00 to 13:00: two uploads made it, the rest did not.
    // The tenant asks for the history; the device's heartbeat carries the
    // request, the device answers with 5-minute records.
    let outage = day + 12 * 3600;
    let people = [3u64, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
    for i in [0usize, 1] {
        let start = outage + i64::try_from(i).unwrap() * 300;
        let ack = app
            .upload(json!({"sn": sn, "startTime": start, "endTime": start + 300, "in": people[i], "out": 0, "passby": 0, "turnback": 0}))
            .await;
        assert_eq!(ack["code"], 0);
    }
    let requested = app
        .post(
            &format!("/api/v1/devices/{device}/history-requests"),
            &tenant.token,
            json!({"from": rfc3339(outage), "to": rfc3339(outage + 3600)}),
        )
        .await;
    assert_eq!(requested.status, StatusCode::CREATED, "{}", requested.text);
    assert_eq!(requested.body["status"], "pending");

    let hb = app.heartbeat(&sn).await;
    assert_eq!(hb["data"]["dataStartTime"], outage);
    assert_eq!(hb["data"]["dataEndTime"], outage + 3600);
    let listed = app
        .get(&format!("/api/v1/devices/{device}/history-requests"), &tenant.token)
        .await;
    assert_eq!(listed.body[0]["status"], "delivered");
    assert!(listed.body[0]["deliveredAt"].is_string());
    // Delivered again until fulfilled.
    assert_eq!(app.heartbeat(&sn).await["data"]["dataStartTime"], outage);

    let records: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let start = outage + i64::try_from(i).unwrap() * 300;
            json!({"time": start + 300, "startTime": start, "endTime": start + 300, "in": n, "out": 0, "passby": 0, "turnback": 0, "avgStayTime": 2000})
        })
        .collect();
    let history = json!({"sn": sn, "len": records.len().to_string(), "data": records});
    assert_eq!(app.upload(history.clone()).await["code"], 0);
    assert_eq!(
        app.upload(history).await["code"],
        0,
        "a repeated history changes nothing"
    );
    truth.0 += people.iter().sum::<u64>();

    let listed = app
        .get(&format!("/api/v1/devices/{device}/history-requests"), &tenant.token)
        .await;
    assert_eq!(listed.body[0]["status"], "fulfilled", "{}", listed.text);
    assert!(
        app.heartbeat(&sn).await["data"]["dataStartTime"].is_null(),
        "no longer requested"
    );

    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(ff["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(totals(&ff), truth, "{ff}");
    let quarter = app
        .footfall(&tenant.token, &site, outage, outage + 3600, "QUARTER_HOUR")
        .await;
    let per_quarter: Vec<u64> = quarter["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["in"].as_u64().unwrap())
        .collect();
    assert_eq!(per_quarter, [3 + 1 + 4, 1 + 5 + 9, 2 + 6 + 5, 3 + 5 + 8]);

    // The same over GraphQL.
    let g = app
        .graphql(
            Some(&tenant.token),
            "query($s: ID!, $f: DateTime!, $t: DateTime!) { footfall(siteId: $s, from: $f, to: $t, granularity: DAY) { totals { in out passby turnback } buckets { start in } } }",
            json!({"s": site, "f": rfc3339(day), "t": rfc3339(day + 86_400)}),
        )
        .await;
    let t = &g.body["data"]["footfall"]["totals"];
    assert_eq!(
        (
            t["in"].as_u64(),
            t["out"].as_u64(),
            t["passby"].as_u64(),
            t["turnback"].as_u64()
        ),
        (Some(truth.0), Some(truth.1), Some(truth.2), Some(truth.3)),
        "{}",
        g.text
    );
    assert_eq!(
        g.body["data"]["footfall"]["buckets"][0]["start"],
        rfc3339(day).replace('Z', "+00:00")
    );

    let d = app.get(&format!("/api/v1/devices/{device}"), &tenant.token).await.body;
    assert!(d["lastUploadAt"].is_string());
}

#[tokio::test]
async fn heartbeat_answers_follow_the_site_timezone_and_keep_reported_fields() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (_, device, sn) = bound_counter(&app, &tenant, "Asia/Kolkata").await;
    let hb = app
        .device(
            "/api/camera/heartbeat",
            &json!({"sn": sn, "timestamp": now() * 1000, "swRelease": "V2.3.1", "ipAddress": "10.0.0.7",
                    "macAddress": "00:11:22:33:44:55", "timeZone": "GMT+8", "hwPlatform": "x1"})
            .to_string(),
        )
        .await;
    assert_eq!(hb.body["code"], 0, "{}", hb.text);
    assert_eq!(
        hb.body["data"]["timezone"], 6,
        "+05:30 rounds to the nearest whole hour"
    );

    let g = app
        .graphql(
            Some(&tenant.token),
            "query($d: ID!) { device(id: $d) { online firmware ipAddress macAddress reported lastSeenAt } }",
            json!({"d": device}),
        )
        .await;
    let d = &g.body["data"]["device"];
    assert_eq!(d["online"], true, "{}", g.text);
    assert_eq!(d["firmware"], "V2.3.1");
    assert_eq!(d["ipAddress"], "10.0.0.7");
    assert_eq!(d["macAddress"], "00:11:22:33:44:55");
    assert_eq!(d["reported"]["timeZone"], "GMT+8");
}

#[tokio::test]
async fn device_requests_that_cannot_be_served_get_protocol_codes() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, sn) = bound_counter(&app, &tenant, "UTC").await;
    let t = day_start();

    let unknown = app
        .device("/api/camera/heartBeat", r#"{"sn":"NOT-BOUND-1","time":1641434640}"#)
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.body["code"], 1, "{}", unknown.text);
    let unknown = app
        .device(
            "/api/camera/dataUpload",
            &json!({"sn": "NOT-BOUND-1", "startTime": t, "endTime": t + 60, "in": 1}).to_string(),
        )
        .await;
    assert_eq!(unknown.body["code"], 1);

    let bad_bodies = [
        "",
        "not json at all",
        "{\"sn\": ",
        "[1,2,3]",
        "{\"time\": 1641434640}",
        "{\"sn\": {\"nested\": true}}",
    ];
    for body in bad_bodies {
        for path in ["/api/camera/heartBeat", "/api/camera/dataUpload"] {
            let a = app.device(path, body).await;
            assert_eq!(a.status, StatusCode::OK, "{path} {body:?}: {}", a.text);
            assert_eq!(a.body["code"], 2, "{path} {body:?}: {}", a.text);
            assert!(!a.body["msg"].as_str().unwrap().is_empty());
        }
    }

    // A bound device sending something the platform cannot count: refused
    // with the reason, nothing counted.
    let refused = [
        json!({"sn": sn, "temperature": 21}),
        json!({"sn": sn, "startTime": t + 300, "endTime": t, "in": 3}),
        json!({"sn": sn, "startTime": t, "endTime": t + 300, "in": -3}),
        json!({"sn": sn, "startTime": t, "endTime": t + 300, "in": "many"}),
        json!({"sn": sn, "startTime": 12, "endTime": 300, "in": 3}),
        json!({"sn": sn, "startTime": t, "endTime": t + 300, "in": u64::MAX}),
        json!({"sn": sn, "startTime": t, "endTime": t + 300, "in": 1, "out": 100_000_001u64}),
        json!({"sn": sn, "startTime": t, "endTime": t + 300, "in": 1, "inChild": i64::MAX}),
        json!({"sn": sn, "startTime": t, "endTime": 4_000_000_000i64, "in": 1}),
        json!({"sn": sn, "data": [{"startTime": t, "endTime": t + 300, "in": 1}, {"startTime": t}]}),
    ];
    for body in refused {
        let a = app.device("/api/camera/dataUpload", &body.to_string()).await;
        assert_eq!(a.body["code"], 2, "{body}: {}", a.text);
    }
    let ff = app.footfall(&tenant.token, &site, t, t + 86_400, "DAY").await;
    assert_eq!(totals(&ff), (0, 0, 0, 0), "nothing half-stored");

    // Oversized bodies get a protocol answer too.
    let huge = format!("{{\"sn\":\"{sn}\",\"pad\":\"{}\"}}", "x".repeat(9 * 1024 * 1024));
    let a = app.device("/api/camera/dataUpload", &huge).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["code"], 2, "{}", &a.text[..a.text.len().min(200)]);

    let _ = device;
}

#[tokio::test]
async fn liberal_input_is_accepted() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, _, sn) = bound_counter(&app, &tenant, "UTC").await;
    let t = day_start() + 3600;

    // Form encoding, lower-case path, string numbers, times in ms, sloppy keys.
    let form = format!(
        "sn=%20{sn}&startTime={t}&endTime={}&in=2&out=1&passby=0&turnback=0",
        t + 300
    );
    let a = app
        .device_with_type("/api/camera/dataupload", &form, "application/x-www-form-urlencoded")
        .await;
    assert_eq!(a.body["code"], 0, "{}", a.text);
    let sloppy = format!(
        r#"{{" sn":"{sn}","startTime":"{}","endTime":{},"in":"3","out":1.0,"passby":0,"turnback":0,"firmware":"x"}}"#,
        t + 300,
        (t + 600) * 1000
    );
    let a = app
        .device_with_type("/api/camera/dataUpload", &sloppy, "text/plain")
        .await;
    assert_eq!(a.body["code"], 0, "{}", a.text);

    let ff = app.footfall(&tenant.token, &site, t, t + 3600, "HOUR").await;
    assert_eq!(totals(&ff), (5, 2, 0, 0), "{ff}");
}

#[tokio::test]
async fn events_stay_and_occupancy() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, sn) = bound_counter(&app, &tenant, "UTC").await;
    let t = now() - 120;

    // Real-time upload with splits and an event list (µs and odd magnitudes).
    let body = json!({
        "sn": sn, "startTime": t, "endTime": t + 1, "time": t + 1,
        "in": 2, "out": 0, "passby": 0, "turnback": 0, "avgStayTime": 1200,
        "inAdult": 1, "outAdult": 0, "passbyAdult": 0, "turnbackAdult": 0,
        "inChild": 1, "outChild": 0, "passbyChild": 0, "turnbackChild": 0, "total": 2,
        "len": 2,
        "eventList": [
            {"id": 1, "timestamp": t * 1_000_000, "eventType": 0, "height": 175, "stayTime": 900},
            {"id": 2, "timestamp": (t * 1_000_000 + 500_000) * 100, "eventType": 100, "height": 110, "stayTime": 1500}
        ]
    });
    assert_eq!(app.upload(body.clone()).await["code"], 0);
    assert_eq!(app.upload(body).await["code"], 0, "retransmitted");

    let events = app
        .get(&format!("/api/v1/devices/{device}/events?limit=1"), &tenant.token)
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(events.body["items"].as_array().unwrap().len(), 1);
    let first = &events.body["items"][0];
    assert_eq!(first["direction"], "in");
    assert_eq!(first["child"], true, "newest first: the child");
    assert_eq!(first["heightCm"], 110);
    let cursor = events.body["nextCursor"].as_str().unwrap().to_string();
    let next = app
        .get(
            &format!("/api/v1/devices/{device}/events?limit=1&after={cursor}"),
            &tenant.token,
        )
        .await;
    assert_eq!(next.body["items"][0]["heightCm"], 175);
    assert_eq!(next.body["items"][0]["at"], rfc3339(t));
    assert!(next.body["nextCursor"].is_null(), "two events, each stored once");

    let ff = app.footfall(&tenant.token, &site, t - 3600, t + 3600, "DAY").await;
    assert_eq!(ff["totals"]["adult"]["in"], 1);
    assert_eq!(ff["totals"]["child"]["in"], 1);
    assert_eq!(ff["totals"]["avgStayTime"], 1200);

    // Without stay data occupancy is in minus out since midnight...
    let occ = app.get(&format!("/api/v1/sites/{site}/occupancy"), &tenant.token).await;
    assert_eq!(occ.body["source"], "IN_MINUS_OUT", "{}", occ.text);
    // ...once the device reports who is in view, that is the occupancy.
    let stay = json!({"sn": sn, "time": now(), "currentStay": 3, "info": [
        {"id": 1, "height": 170, "status": 1, "staytime": 2000},
        {"id": 2, "height": 171, "status": 1, "staytime": 3000},
        {"id": 3, "height": 120, "status": 1, "staytime": 100}]});
    assert_eq!(app.upload(stay).await["code"], 0);
    let g = app
        .graphql(
            Some(&tenant.token),
            "query($s: ID!) { site(id: $s) { occupancy { current source asOf } devices { occupancy } } }",
            json!({"s": site}),
        )
        .await;
    let s = &g.body["data"]["site"];
    assert_eq!(s["occupancy"]["current"], 3, "{}", g.text);
    assert_eq!(s["occupancy"]["source"], "STAY");
    assert_eq!(s["devices"][0]["occupancy"], 3);
}

#[tokio::test]
async fn configuration_and_history_requests_are_validated() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, device, _) = bound_counter(&app, &tenant, "UTC").await;
    let put = |body: Value| {
        let app = &app;
        let token = tenant.token.clone();
        let device = device.clone();
        async move {
            app.call(
                reqwest::Method::PUT,
                &format!("/api/v1/devices/{device}/config"),
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    for (body, field) in [
        (json!({"uploadInterval": -1}), "uploadInterval"),
        (json!({"uploadInterval": 100_000}), "uploadInterval"),
        (json!({"dataMode": "sum"}), "dataMode"),
    ] {
        let a = put(body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], field);
    }
    assert_eq!(
        put(json!({"uploadInterval": "five"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($d: ID!) { updateDeviceConfig(id: $d, uploadInterval: 60, dataMode: TOTAL) { config { uploadInterval dataMode } } }",
            json!({"d": device}),
        )
        .await;
    assert_eq!(
        g.body["data"]["updateDeviceConfig"]["config"],
        json!({"uploadInterval": 60, "dataMode": "TOTAL"}),
        "{}",
        g.text
    );

    let n = now();
    for (from, to, field) in [
        (n - 3600, n - 7200, "from"),
        (n - 91 * 86_400, n - 90 * 86_400 + 60, "from"),
        (n - 3600, n + 86_400, "to"),
    ] {
        let a = app
            .post(
                &format!("/api/v1/devices/{device}/history-requests"),
                &tenant.token,
                json!({"from": rfc3339(from), "to": rfc3339(to)}),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], field, "{}", a.text);
    }
    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($d: ID!, $f: DateTime!, $t: DateTime!) { requestHistory(deviceId: $d, from: $f, to: $t) { status from to } }",
            json!({"d": device, "f": rfc3339(n - 7200), "t": rfc3339(n - 3600)}),
        )
        .await;
    assert_eq!(g.body["data"]["requestHistory"]["status"], "PENDING", "{}", g.text);

    // Site defaults are inherited by devices bound afterwards.
    let a = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/sites/{site}/default-config"),
            Some(&tenant.token),
            Some(json!({"uploadInterval": 0})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let later = app
        .bind_device(&tenant.token, &unique_sn(), &site, "people_counter")
        .await;
    assert_eq!(
        later["config"],
        json!({"uploadInterval": 0, "dataMode": "ADD", "keepInterval": 60})
    );

    // A viewer cannot reconfigure.
    let viewer = app.add_user(&tenant, "viewer").await;
    let a = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/devices/{device}/config"),
            Some(&viewer),
            Some(json!({"uploadInterval": 1})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn another_tenant_sees_none_of_it() {
    let app = spawn_app().await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    let (site, device, sn) = bound_counter(&app, &a, "UTC").await;
    let t = now() - 600;
    app.upload(
        json!({"sn": sn, "startTime": t, "endTime": t + 60, "in": 4, "out": 1, "passby": 0, "turnback": 0,
        "eventList": [{"id": 1, "timestamp": t * 1_000_000, "eventType": 0, "height": 170, "stayTime": 100}]}),
    )
    .await;
    for path in [
        format!(
            "/api/v1/sites/{site}/footfall?from={}&to={}&granularity=DAY",
            rfc3339(t - 3600),
            rfc3339(t + 3600)
        ),
        format!("/api/v1/sites/{site}/occupancy"),
        format!("/api/v1/devices/{device}/events"),
        format!("/api/v1/devices/{device}/history-requests"),
    ] {
        let answer = app.get(&path, &b.token).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.text);
    }
    let writes = [
        app.call(
            reqwest::Method::PUT,
            &format!("/api/v1/devices/{device}/config"),
            Some(&b.token),
            Some(json!({"uploadInterval": 1})),
        )
        .await,
        app.post(
            &format!("/api/v1/devices/{device}/history-requests"),
            &b.token,
            json!({"from": rfc3339(t - 3600), "to": rfc3339(t)}),
        )
        .await,
        app.call(
            reqwest::Method::PUT,
            &format!("/api/v1/sites/{site}/default-config"),
            Some(&b.token),
            Some(json!({"uploadInterval": 1})),
        )
        .await,
    ];
    for w in writes {
        assert_eq!(w.status, StatusCode::NOT_FOUND, "{}", w.text);
    }
    let g = app
        .graphql(
            Some(&b.token),
            "query($s: ID!, $f: DateTime!, $t: DateTime!) { footfall(siteId: $s, from: $f, to: $t, granularity: DAY) { totals { in } } }",
            json!({"s": site, "f": rfc3339(t - 3600), "t": rfc3339(t + 3600)}),
        )
        .await;
    assert_eq!(g.body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{}", g.text);
    let g = app
        .graphql(
            Some(&b.token),
            "mutation($d: ID!) { updateDeviceConfig(id: $d, uploadInterval: 1) { id } }",
            json!({"d": device}),
        )
        .await;
    assert_eq!(g.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    // A's configuration is untouched.
    assert_eq!(app.heartbeat(&sn).await["data"]["uploadInterval"], 5);
}

/// A small deterministic generator, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One device's shuffled, repeated uploads in both modes plus history over
/// an outage: the uploads, and the people that really passed.
struct Shuffled {
    site: String,
    base: i64,
    people: Vec<u64>,
    uploads: Vec<Value>,
}

async fn shuffled(app: &TestApp, tenant: &Tenant, seed: u64) -> Shuffled {
    let (site, _, sn) = bound_counter(app, tenant, "UTC").await;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let base = day_start() + 3600 * i64::try_from(seed % 20).unwrap();
    let people: Vec<u64> = (0..24).map(|_| rng.below(9)).collect();
    let mut uploads: Vec<Value> = Vec::new();
    // Add mode for the first half, then total mode (with a reset): the
    // totals run from the start of the statistics period, so the first
    // one covers the add-mode intervals too.
    let (outage_from, outage_to) = (4 + rng.below(4) as usize, 9 + rng.below(3) as usize);
    let mut running = 0u64;
    for (i, n) in people.iter().enumerate() {
        let start = base + i64::try_from(i).unwrap() * 300;
        let lost = (outage_from..outage_to).contains(&i) && rng.below(3) > 0;
        if i == 18 && *n < running {
            running = 0;
        }
        running += n;
        if i < 12 {
            if !lost {
                uploads.push(json!({"sn": sn, "startTime": start, "endTime": start + 300, "in": n, "out": 0, "passby": 0, "turnback": 0}));
            }
        } else {
            uploads.push(json!({"sn": sn, "startTime": base, "endTime": start + 300, "in": running, "out": 0, "passby": 0, "turnback": 0}));
        }
    }
    let records: Vec<Value> = (outage_from..outage_to)
        .map(|i| {
            let start = base + i64::try_from(i).unwrap() * 300;
            json!({"startTime": start, "endTime": start + 300, "in": people[i], "out": 0, "passby": 0, "turnback": 0})
        })
        .collect();
    uploads.push(json!({"sn": sn, "len": records.len(), "data": records}));
    for _ in 0..6 {
        let i = rng.below(uploads.len() as u64) as usize;
        uploads.push(uploads[i].clone());
    }
    for i in (1..uploads.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        uploads.swap(i, j);
    }
    Shuffled {
        site,
        base,
        people,
        uploads,
    }
}

impl Shuffled {
    async fn check(&self, app: &TestApp, tenant: &Tenant, seed: u64) {
        let ff = app
            .footfall(&tenant.token, &self.site, self.base, self.base + 24 * 300, "DAY")
            .await;
        assert_eq!(
            ff["totals"]["in"].as_u64().unwrap(),
            self.people.iter().sum::<u64>(),
            "seed {seed}: {:?}",
            self.people
        );
    }
}

/// Shuffled, repeated uploads in both modes plus history over an outage,
/// through the real endpoints: the stored totals equal the ground truth.
#[tokio::test]
async fn shuffled_uploads_count_exactly_once() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    for seed in 1..=10u64 {
        let plan = shuffled(&app, &tenant, seed).await;
        for u in &plan.uploads {
            assert_eq!(app.upload(u.clone()).await["code"], 0, "{u}");
        }
        plan.check(&app, &tenant, seed).await;
    }
}

/// The same with twenty devices uploading at once, each now and then with
/// two uploads in flight: batches then hold readings of many devices side by side (written
/// together) and of one device twice (written one by one). Counting must not
/// depend on which.
#[tokio::test]
async fn concurrent_shuffled_uploads_count_exactly_once() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let mut plans = Vec::new();
    for seed in 101..=120u64 {
        plans.push((seed, shuffled(&app, &tenant, seed).await));
    }
    let devices = plans.iter().map(|(_, plan)| async {
        // One upload at a time, and now and then two.
        let mut rest = plan.uploads.as_slice();
        let mut step = 0;
        while !rest.is_empty() {
            step += 1;
            let (now, later) = rest.split_at(if step % 3 == 0 { 2.min(rest.len()) } else { 1 });
            rest = later;
            let answers = futures_util::future::join_all(now.iter().map(|u| app.upload(u.clone()))).await;
            for (u, answer) in now.iter().zip(answers) {
                assert_eq!(answer["code"], 0, "{u}");
            }
        }
    });
    futures_util::future::join_all(devices).await;
    for (seed, plan) in &plans {
        plan.check(&app, &tenant, *seed).await;
    }
}

/// A device switched from add to total mode (its first total covers the day's
/// add-mode intervals), then a long run of totals and an outage answered by
/// history far from the switch: settling the history must not disturb what
/// the first total counts.
#[tokio::test]
async fn history_long_after_a_mode_switch() {
    let app = spawn_app().await;
    let tenant = app.signup("Acme").await;
    let (site, _, sn) = bound_counter(&app, &tenant, "UTC").await;
    let day = day_start();
    let people = |i: i64| u64::try_from(i % 5 + 1).unwrap();
    let mut running = 0;
    for i in 0..120i64 {
        let (from, to) = (day + 300 * i, day + 300 * (i + 1));
        running += people(i);
        let body = if i < 24 {
            json!({"sn": sn, "startTime": from, "endTime": to, "in": people(i), "out": 0, "passby": 0, "turnback": 0})
        } else {
            json!({"sn": sn, "startTime": day, "endTime": to, "in": running, "out": 0, "passby": 0, "turnback": 0})
        };
        // The outage: totals 90..102 never arrive.
        if !(90..102).contains(&i) {
            assert_eq!(app.upload(body).await["code"], 0);
        }
    }
    let records: Vec<Value> = (84..108i64)
        .map(|i| json!({"startTime": day + 300 * i, "endTime": day + 300 * (i + 1), "in": people(i), "out": 0, "passby": 0, "turnback": 0}))
        .collect();
    assert_eq!(
        app.upload(json!({"sn": sn, "len": records.len(), "data": records}))
            .await["code"],
        0
    );
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(ff["totals"]["in"].as_u64().unwrap(), running, "{}", ff["totals"]);
}
