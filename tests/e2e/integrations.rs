//! Integrations end to end (PROTOCOLS.md §3, §4): an analysis server and an
//! edge box pushing to their secret URLs, with the vendor documents' own
//! sample payloads (the batch vehicle-flow sample repaired: the document's
//! closes its array twice).

use footfall_e2e::{Tenant, TestApp, now, rfc3339, spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Unix time of a Shanghai wall-clock time.
fn shanghai(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, s))
        .unwrap()
        .and_utc()
        .timestamp()
        - 8 * 3600
}

fn wall_clock(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix + 8 * 3600, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

async fn integration(app: &TestApp, tenant: &Tenant, site: &str, kind: &str) -> Value {
    let a = app
        .post(
            "/api/v1/integrations",
            &tenant.token,
            json!({"kind": kind, "siteId": site, "name": "Gate 2"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body
}

async fn post(app: &TestApp, path: &str, body: &str) -> footfall_e2e::Answer {
    app.device(path, body).await
}

fn people_flow() -> Value {
    json!({
      "peopleFlowToday": [
        {"taskNum": "2", "taskName": "任务 2", "regionCode": 101, "peopleIn": 10, "peopleOut": 6,
         "uploadTime": "2018-10-10 03:08:46", "lastUploadTime": "2018-10-10 03:08:41"}
      ],
      "peopleDensityToday": [
        {"taskNum": "1", "taskName": "任务 1", "regionCode": 101, "gatherTime": "2018-09-28 07:27:21", "peopleNum": 15, "area": 15, "density": 1},
        {"taskNum": "1", "taskName": "任务 1", "regionCode": 100, "gatherTime": "2018-09-28 07:27:21", "peopleNum": 20, "area": 20, "density": 1},
        {"taskNum": "2", "taskName": "任务 2", "regionCode": 100, "gatherTime": "2018-09-28 07:27:21", "peopleNum": 20, "area": 20, "density": 1}
      ]
    })
}

const EVENT_ALARM: &str = r#"{
  "taskNum" : "3",
  "taskName" : "事件检测任务",
  "srcAddress" : "rtsp://admin:12345@192.168.1.96:554/h264/ch1/main/av_stream",
  "recordLargePath" : "image/2019_03/04/1/illegal_parking/large/1_illegal_parking_large_20190304000220050.jpg",
  "recordType" : 1001,
  "recordContent" : "车辆违停",
  "recordTime" : "2018-01-01 12:09:18",
  "videoPath": "/video/2019_08/02/111/illegal_park/111_illegal_park_20190802144301451.mp4",
  "vehicleType":3,
  "vehicleColor":4,
  "plate": "川 A66666",
  "plateColor":1,
  "plateColor":1,
  "weather":1,
  "Pos" : "{\"height\":140,\"width\":95,\"x\":182,\"y\":225}"
}"#;

const CROWD_ALARM: &str = r#"{
  "taskNum" : "1",
  "taskName" : "测试任务",
  "regionCode":100,
  "peopleNum" : 10,
  "area" : 1.0,
  "density" : 10.0,
  "srcAddress" : "image/2019_02/28/9/crowd/large/9_crowd_large_20190228181911532.jpg",
  "alarmTime" : "2018-01-01 12:09:18",
  "imgBase64" : null
}"#;

const TASK_STATUS: &str = r#"{
  "taskNum" : "1",
  "taskName" : "测试任务",
  "taskStatus":0,
  "taskStatusName" : "未启动"
}"#;

const VEHICLE: &str = r#"{
    "taskNum": "100",
    "taskName": "测试任务",
    "snapshotPath": "image/2019_03/04/2/lower_speed/small/2_lower_speed_small_20190304000008506.jpg",
    "vehicleTypePath": "image/2019_03/04/2/lower_speed/small/2_lower_speed_small_20190304000008506.jpg",
    "roadNum": 2,
    "roadName": "左转",
    "trunDirNo": "1",
    "plateNum": "川 A888AB",
    "vehicleType": 1,
    "vehicleColor": 255,
    "vehicleSpeed": 92,
    "snapshotTime": "2018-01-01 12:09:18",
    "runningTime": 105,
    "vehicleSpacing": 2565,
    "timeDistance": 1015,
    "vehicleDirection": 4,
    "date": "2018/01/01 12:09",
    "dataSource": "通甲优博",
    "weather": 1
}"#;

fn vehicle_batch() -> Value {
    let one = |path: &str| {
        json!({"taskNum": "100", "taskName": "测试任务", "snapshotPath": path,
            "vehicleTypePath": "image/2019_03/04/2/lower_speed/small/2_lower_speed_small_20190304000008506.jpg",
            "roadNum": 2, "plateNum": "川A888AB", "vehicleType": 1, "vehicleColor": 255, "vehicleSpeed": 92,
            "plateColor": 1, "snapshotTime": "2018-01-01 12:09:18", "runningTime": 105, "vehicleSpacing": 2565,
            "timeDistance": 1015, "vehicleDirection": 4})
    };
    json!([
        one("image/2019_03/04/1/illegal_parking/large/1_illegal_parking_large_20190304000220050.jpg"),
        one("image/2019_03/04/1/lower_speed/small/1_lower_speed_small_20190304000501779.jpg"),
        one("image/2019_03/04/2/lower_speed/small/2_lower_speed_small_20190304000501791.jpg"),
    ])
}

const TRAFFIC: &str = r#"[
  {
    "id":11,
    "taskId":130,
    "taskNum":"111",
    "taskName": "dss",
    "snapshotTime": "2018-11-19 11:29:27",
    "spacingPercent": 0.67,
    "timePercent": 0.76,
    "queueLength": 56,
    "queueNum": 32,
    "roadNum": 1
  }
]"#;

async fn zones(app: &TestApp, token: &str, site: &str) -> Vec<Value> {
    let a = app.get(&format!("/api/v1/devices?siteId={site}"), token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let list = a
        .body
        .as_array()
        .cloned()
        .or_else(|| a.body["items"].as_array().cloned())
        .unwrap();
    list.into_iter().filter(|d| d["protocol"] == "analysis_zone").collect()
}

#[tokio::test]
async fn an_analysis_server_pushes_every_type_to_one_url() {
    let app = spawn_app().await;
    let tenant = app.signup("Metro").await;
    let site = app.create_site(&tenant.token, "Central station", "Asia/Shanghai").await;
    let created = integration(&app, &tenant, &site, "analysis_server").await;
    assert_eq!(created["kind"], "analysis_server");
    assert_eq!(created["active"], true);
    let path = created["ingestPath"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap();
    assert_eq!(path, format!("/ingest/analysis/{token}"));
    assert!(token.len() >= 40, "unguessable: {token}");

    // People flow: increments between lastUploadTime and uploadTime, once.
    for _ in 0..2 {
        let a = post(&app, &path, &people_flow().to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["code"], 0);
    }
    let next = json!({"peopleFlowToday": [{"taskNum": "2", "taskName": "任务 2", "regionCode": 101,
        "peopleIn": 4, "peopleOut": 1, "uploadTime": "2018-10-10 03:08:51", "lastUploadTime": "2018-10-10 03:08:46"}]});
    assert_eq!(post(&app, &path, &next.to_string()).await.status, StatusCode::OK);
    let day = shanghai(2018, 10, 10, 0, 0, 0);
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(
        (&ff["totals"]["in"], &ff["totals"]["out"]),
        (&json!(14), &json!(7)),
        "{ff}"
    );
    let quarter = app
        .footfall(
            &tenant.token,
            &site,
            shanghai(2018, 10, 10, 3, 0, 0),
            shanghai(2018, 10, 10, 3, 15, 0),
            "QUARTER_HOUR",
        )
        .await;
    assert_eq!(quarter["buckets"][0]["in"], 14, "at 03:0x local: {quarter}");

    // Each task/region became a zone under the site, named after its task.
    let z = zones(&app, &tenant.token, &site).await;
    assert_eq!(z.len(), 4, "{z:?}");
    assert!(z.iter().any(|d| d["name"] == "任务 2 / region 101"), "{z:?}");

    // Density feeds occupancy (fresh readings only count).
    let t = now();
    let density = json!({"peopleDensityToday": [
        {"taskNum": "1", "regionCode": 101, "gatherTime": wall_clock(t), "peopleNum": 15, "area": 15, "density": 1},
        {"taskNum": "1", "regionCode": 100, "gatherTime": wall_clock(t), "peopleNum": 20, "area": 20, "density": 1}]});
    assert_eq!(post(&app, &path, &density.to_string()).await.status, StatusCode::OK);
    let occ = app.get(&format!("/api/v1/sites/{site}/occupancy"), &tenant.token).await;
    assert_eq!(occ.body["current"], 35, "{}", occ.text);
    // Zone 2/101 counts flow but reports no density: in minus out today (0).
    assert_eq!(occ.body["source"], "MIXED");

    // Alarms and task status become events.
    for body in [EVENT_ALARM, CROWD_ALARM, TASK_STATUS] {
        let a = post(&app, &path, body).await;
        assert_eq!(a.status, StatusCode::OK, "{body}: {}", a.text);
    }
    let events = app
        .get(&format!("/api/v1/sites/{site}/camera-events"), &tenant.token)
        .await;
    let items = events.body["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(items.len(), 3, "{kinds:?}");
    let parking = items.iter().find(|e| e["kind"] == "illegal_parking").unwrap();
    assert_eq!(parking["source"], "alarm");
    assert_eq!(parking["name"], "车辆违停");
    assert_eq!(parking["at"], rfc3339(shanghai(2018, 1, 1, 12, 9, 18)));
    assert_eq!(parking["attributes"]["plate"], "川 A66666");
    assert_eq!(parking["attributes"]["Pos"]["width"], 95);
    let crowd = items.iter().find(|e| e["kind"] == "crowd").unwrap();
    assert_eq!(crowd["attributes"]["peopleNum"], 10);
    let status = items.iter().find(|e| e["kind"] == "task_status").unwrap();
    assert_eq!(status["status"], "not_started");
    assert_eq!(status["name"], "未启动");

    // Vehicle flow: one vehicle per record, retransmissions counted once.
    assert_eq!(post(&app, &path, VEHICLE).await.status, StatusCode::OK);
    for _ in 0..2 {
        let a = post(&app, &path, &vehicle_batch().to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    let jan = shanghai(2018, 1, 1, 0, 0, 0);
    let v = app
        .get(
            &format!(
                "/api/v1/sites/{site}/vehicle-counts?from={}&to={}&granularity=DAY",
                rfc3339(jan),
                rfc3339(jan + 86_400)
            ),
            &tenant.token,
        )
        .await;
    assert_eq!(v.body["totals"], json!({"in": 0, "out": 0, "pass": 4}), "{}", v.text);

    // Traffic parameters: readings per lane of the task's zone.
    assert_eq!(post(&app, &path, TRAFFIC).await.status, StatusCode::OK);
    let task_zone = zones(&app, &tenant.token, &site)
        .await
        .into_iter()
        .find(|d| d["name"] == "dss")
        .expect("the traffic task's zone");
    let readings = app
        .get(
            &format!(
                "/api/v1/devices/{}/sensor-readings?kind=traffic",
                task_zone["id"].as_str().unwrap()
            ),
            &tenant.token,
        )
        .await;
    let items = readings.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{}", readings.text);
    let queue = items.iter().find(|r| r["key"] == "1/queueLength").unwrap();
    assert_eq!(queue["value"], 56.0);
}

#[tokio::test]
async fn analysis_pushes_are_refused_cleanly_and_store_nothing() {
    let app = spawn_app().await;
    let tenant = app.signup("Metro").await;
    let site = app.create_site(&tenant.token, "Central station", "Asia/Shanghai").await;
    let created = integration(&app, &tenant, &site, "analysis_server").await;
    let path = created["ingestPath"].as_str().unwrap().to_string();

    let mut negative = people_flow();
    negative["peopleFlowToday"][0]["peopleIn"] = json!("-3");
    let mut bad_time = people_flow();
    bad_time["peopleFlowToday"][0]["uploadTime"] = json!("yesterday");
    let mut half_good = people_flow();
    half_good["peopleDensityToday"][2]["peopleNum"] = json!("many");
    let mut no_task = people_flow();
    no_task["peopleFlowToday"][0].as_object_mut().unwrap().remove("taskNum");
    for (what, body) in [
        ("not JSON", "{\"peopleFlowToday\": [".to_string()),
        ("an unknown shape", json!({"hello": "world"}).to_string()),
        ("a number", "42".to_string()),
        ("an array of numbers", "[1, 2]".to_string()),
        ("a negative count", negative.to_string()),
        ("an unreadable time", bad_time.to_string()),
        ("one bad density record", half_good.to_string()),
        ("no taskNum", no_task.to_string()),
        (
            "peopleFlowToday not a list",
            json!({"peopleFlowToday": {"taskNum": "1"}}).to_string(),
        ),
        ("empty body", String::new()),
    ] {
        let a = post(&app, &path, &body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}: {}", a.text);
        assert!(
            a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {}",
            a.text
        );
    }
    let day = shanghai(2018, 10, 10, 0, 0, 0);
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(ff["totals"]["in"], 0, "{ff}");
    assert!(
        zones(&app, &tenant.token, &site).await.is_empty(),
        "no zone created by a refused push"
    );

    // Tokens: unknown, rotated away, revoked.
    let a = post(
        &app,
        "/ingest/analysis/not-a-token-at-all-but-long",
        &people_flow().to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let id = created["id"].as_str().unwrap();
    let rotated = app
        .post(
            &format!("/api/v1/integrations/{id}/rotate-token"),
            &tenant.token,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new_path = rotated.body["ingestPath"].as_str().unwrap().to_string();
    assert_ne!(new_path, path);
    assert_eq!(
        post(&app, &path, &people_flow().to_string()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(&app, &new_path, &people_flow().to_string()).await.status,
        StatusCode::OK
    );
    // Per-type sub-paths take the same pushes.
    assert_eq!(
        post(&app, &format!("{new_path}/41"), &people_flow().to_string())
            .await
            .status,
        StatusCode::OK
    );
    let revoked = app.delete(&format!("/api/v1/integrations/{id}"), &tenant.token).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body["active"], false);
    assert_eq!(
        post(&app, &new_path, &people_flow().to_string()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = app
        .post(
            &format!("/api/v1/integrations/{id}/rotate-token"),
            &tenant.token,
            json!({}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a revoked integration stays revoked"
    );
    let listed = app.get("/api/v1/integrations", &tenant.token).await;
    assert_eq!(listed.body[0]["active"], false);
    assert!(
        listed.body[0].get("token").is_none(),
        "tokens are shown once: {}",
        listed.text
    );
}

#[tokio::test]
async fn integrations_belong_to_their_tenant() {
    let app = spawn_app().await;
    let a = app.signup("Metro").await;
    let b = app.signup("Rival").await;
    let site = app.create_site(&a.token, "Central station", "Asia/Shanghai").await;
    let created = integration(&app, &a, &site, "analysis_server").await;
    let id = created["id"].as_str().unwrap();
    let path = created["ingestPath"].as_str().unwrap();
    assert_eq!(
        post(&app, path, &people_flow().to_string()).await.status,
        StatusCode::OK
    );
    let zone = zones(&app, &a.token, &site).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    for path in [
        format!("/api/v1/integrations/{id}"),
        format!("/api/v1/devices/{zone}"),
        format!("/api/v1/sites/{site}/camera-events"),
    ] {
        assert_eq!(app.get(&path, &b.token).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get("/api/v1/integrations", &b.token).await.body, json!([]));
    let r = app
        .post(&format!("/api/v1/integrations/{id}/rotate-token"), &b.token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&format!("/api/v1/integrations/{id}"), &b.token).await.status,
        StatusCode::NOT_FOUND
    );
    // Nor can an integration be made on another tenant's site.
    let r = app
        .post(
            "/api/v1/integrations",
            &b.token,
            json!({"kind": "edge_box", "siteId": site}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Viewers read but do not create; kinds and zones are checked.
    let viewer = app.add_user(&a, "viewer").await;
    let r = app
        .post(
            "/api/v1/integrations",
            &viewer,
            json!({"kind": "edge_box", "siteId": site}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/integrations", &viewer)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let r = app
        .post(
            "/api/v1/integrations",
            &a.token,
            json!({"kind": "camera", "siteId": site}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .post(
            "/api/v1/devices",
            &a.token,
            json!({"sn": "ZONE-1", "siteId": site, "protocol": "analysis_zone"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "zones are not bound by hand: {}",
        r.text
    );
}

#[tokio::test]
async fn edge_boxes_push_to_their_integration_and_are_bound_on_first_push() {
    let app = spawn_app().await;
    let tenant = app.signup("Parking").await;
    let site = app.create_site(&tenant.token, "Car park", "UTC").await;
    let created = integration(&app, &tenant, &site, "edge_box").await;
    let path = created["ingestPath"].as_str().unwrap().to_string();
    assert!(path.starts_with("/ingest/edge/"), "{path}");
    let uuid = unique_sn();
    let at = (now() - 600) * 1000;
    let body = |msg: &str| {
        json!({"wsKey": "eventCreateOptimize", "msg_id": msg, "message": {
            "requestTime": at, "deviceInfo": {"id": uuid, "name": "Box AB-H1", "uuid": uuid},
            "skillInfo": {"id": "offvehicle", "name": "车辆离开", "version": "2.0.0.0"},
            "data": {"timestamp": at, "eventInfo": [{"count": 2, "eventName": "车辆离开"}], "eventDesc": "发现2辆离场"}}})
        .to_string()
    };
    for msg in ["a", "a", "b"] {
        let a = post(&app, &path, &body(msg)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["code"], 0, "{}", a.text);
        assert_eq!(a.body["msg_id"], msg);
    }
    let devices = app.get(&format!("/api/v1/devices?siteId={site}"), &tenant.token).await;
    let list = devices.body.as_array().cloned().unwrap_or_default();
    let edge = list
        .iter()
        .find(|d| d["sn"] == uuid.to_uppercase())
        .expect("bound on first push");
    assert_eq!(edge["protocol"], "edge_box");
    assert_eq!(edge["name"], "Box AB-H1");
    let v = app
        .get(
            &format!(
                "/api/v1/sites/{site}/vehicle-counts?from={}&to={}&granularity=DAY",
                rfc3339(now() - 43_200),
                rfc3339(now() + 43_200)
            ),
            &tenant.token,
        )
        .await;
    assert_eq!(v.body["totals"]["out"], 4, "{}", v.text);

    // A box bound by another tenant cannot be pushed through this one.
    let other = app.signup("Rival").await;
    let their_site = app.create_site(&other.token, "Theirs", "UTC").await;
    let theirs = unique_sn();
    app.bind_device(&other.token, &theirs, &their_site, "edge_box").await;
    let push = body("c").replace(&uuid, &theirs);
    let a = post(&app, &path, &push).await;
    assert_eq!(a.body["code"], 1, "{}", a.text);

    // An analysis token is not an edge token, and vice versa.
    let analysis = integration(&app, &tenant, &site, "analysis_server").await;
    let token = analysis["token"].as_str().unwrap();
    let a = post(&app, &format!("/ingest/edge/{token}"), &body("d")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let edge_token = created["token"].as_str().unwrap();
    let a = post(
        &app,
        &format!("/ingest/analysis/{edge_token}"),
        &people_flow().to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn integrations_and_zones_over_graphql() {
    let app = spawn_app().await;
    let tenant = app.signup("Metro").await;
    let site = app.create_site(&tenant.token, "Central station", "Asia/Shanghai").await;
    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($s: ID!) { createIntegration(kind: ANALYSIS_SERVER, siteId: $s, name: \"Gate 2\") {
                token ingestPath integration { id kind active siteId } } }",
            json!({"s": site}),
        )
        .await;
    let issued = &g.body["data"]["createIntegration"];
    assert_eq!(issued["integration"]["kind"], "ANALYSIS_SERVER", "{}", g.text);
    let path = issued["ingestPath"].as_str().unwrap().to_string();
    let id = issued["integration"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        post(&app, &path, &people_flow().to_string()).await.status,
        StatusCode::OK
    );

    let g = app
        .graphql(
            Some(&tenant.token),
            "query($s: ID!) { integrations { id tokenHint } site(id: $s) { zones { name protocol } } }",
            json!({"s": site}),
        )
        .await;
    assert_eq!(g.body["data"]["integrations"][0]["id"], id.as_str(), "{}", g.text);
    let zones = g.body["data"]["site"]["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 4, "{}", g.text);
    assert!(zones.iter().all(|z| z["protocol"] == "analysis_zone"));

    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($id: ID!) { rotateIntegrationToken(id: $id) { ingestPath } }",
            json!({"id": id}),
        )
        .await;
    let rotated = g.body["data"]["rotateIntegrationToken"]["ingestPath"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        post(&app, &path, &people_flow().to_string()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let g = app
        .graphql(
            Some(&tenant.token),
            "mutation($id: ID!) { revokeIntegration(id: $id) { active revokedAt } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(g.body["data"]["revokeIntegration"]["active"], false, "{}", g.text);
    assert_eq!(
        post(&app, &rotated, &people_flow().to_string()).await.status,
        StatusCode::UNAUTHORIZED
    );

    let other = app.signup("Rival").await;
    let g = app
        .graphql(
            Some(&other.token),
            "query($id: ID!) { integration(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(g.body["data"]["integration"], Value::Null, "{}", g.text);
}

/// A stand-in for the analysis server's own API (login, interface list,
/// add, edit, delete), as its manual describes it.
mod fake_server {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::Json;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use serde_json::{Value, json};

    #[derive(Default)]
    pub struct Remote {
        pub interfaces: Vec<Value>,
        pub next_id: i64,
        pub calls: Vec<String>,
    }

    pub type Shared = Arc<Mutex<Remote>>;

    fn authorised(headers: &HeaderMap) -> bool {
        headers.get("token").and_then(|t| t.to_str().ok()) == Some("ZXlKaGJHY2lPaUpCUlZNaUxD")
    }

    async fn login(State(s): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
        s.lock().unwrap().calls.push("login".into());
        if body == json!({"username": "admin", "password": "123456"}) {
            Json(json!({"code": 0, "resultMsg": "操作成功",
                "data": {"id": 3, "name": "admin", "pid": 0, "token": "ZXlKaGJHY2lPaUpCUlZNaUxD"}}))
        } else {
            Json(json!({"code": 1001, "resultMsg": "用户名或密码错误"}))
        }
    }

    async fn list(State(s): State<Shared>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
        if !authorised(&headers) {
            return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401})));
        }
        let mut r = s.lock().unwrap();
        r.calls.push("list".into());
        (StatusCode::OK, Json(json!({"code": 0, "data": r.interfaces.clone()})))
    }

    async fn add(
        State(s): State<Shared>,
        headers: HeaderMap,
        Json(mut body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        if !authorised(&headers) {
            return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401})));
        }
        let mut r = s.lock().unwrap();
        r.next_id += 1;
        let id = r.next_id;
        body["id"] = json!(id);
        r.interfaces.push(body);
        r.calls.push("add".into());
        (
            StatusCode::OK,
            Json(json!({"code": 0, "resultMsg": "操作成功", "data": {"id": id}})),
        )
    }

    async fn edit(State(s): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
        if !authorised(&headers) {
            return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401})));
        }
        let mut r = s.lock().unwrap();
        r.calls.push("edit".into());
        match r.interfaces.iter_mut().find(|i| i["id"] == body["id"]) {
            Some(i) => {
                *i = body;
                (StatusCode::OK, Json(json!({"code": 0})))
            }
            None => (StatusCode::OK, Json(json!({"code": 404, "resultMsg": "接口不存在"}))),
        }
    }

    async fn delete(State(s): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
        if !authorised(&headers) {
            return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401})));
        }
        let mut r = s.lock().unwrap();
        r.calls.push("delete".into());
        r.interfaces.retain(|i| i["id"] != body["id"]);
        (StatusCode::OK, Json(json!({"code": 0})))
    }

    async fn slow() -> Json<Value> {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Json(json!({"code": 0}))
    }

    /// Starts the fake; returns its base URL and its state.
    pub async fn start() -> (String, Shared) {
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/api/account/login", post(login))
            .route("/api/interface/list", post(list))
            .route("/api/interface/add", post(add))
            .route("/api/interface/edit", post(edit))
            .route("/api/interface/delete", post(delete))
            .route("/slow/api/account/login", post(slow))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), shared)
    }
}

#[tokio::test]
async fn the_platform_registers_itself_on_the_analysis_server() {
    let app = footfall_e2e::spawn_app_with(|c| c.remote_timeout_secs = 1).await;
    let tenant = app.signup("Metro").await;
    let site = app.create_site(&tenant.token, "Central station", "Asia/Shanghai").await;
    let created = integration(&app, &tenant, &site, "analysis_server").await;
    let id = created["id"].as_str().unwrap().to_string();
    let (remote, fake) = fake_server::start().await;
    let public = app.url("");
    let register = |body: Value| {
        let app = &app;
        let token = tenant.token.clone();
        let id = id.clone();
        async move {
            app.post(&format!("/api/v1/integrations/{id}/register"), &token, body)
                .await
        }
    };

    let a = register(json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let registered = a.body["registered"].as_array().unwrap();
    assert_eq!(registered.len(), 5);
    assert!(registered.iter().all(|r| r["action"] == "added"), "{}", a.text);
    let token = a.body["integration"]["token"]
        .as_str()
        .expect("a new token, shown once")
        .to_string();
    {
        let r = fake.lock().unwrap();
        let mut types: Vec<i64> = r
            .interfaces
            .iter()
            .map(|i| i["businessType"].as_i64().unwrap())
            .collect();
        types.sort_unstable();
        assert_eq!(types, [11, 21, 22, 41, 52]);
        assert!(r.interfaces.iter().all(|i| {
            i["url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{public}/ingest/analysis/{token}/"))
        }));
        assert!(r.interfaces.iter().all(|i| i["method"] == 1 && i["contentType"] == 1));
    }
    // The analysis server now posts where it was told to, and it counts.
    let people_url = {
        let r = fake.lock().unwrap();
        let i = r.interfaces.iter().find(|i| i["businessType"] == 41).unwrap();
        i["url"].as_str().unwrap().strip_prefix(&public).unwrap().to_string()
    };
    assert_eq!(
        post(&app, &people_url, &people_flow().to_string()).await.status,
        StatusCode::OK
    );
    let day = shanghai(2018, 10, 10, 0, 0, 0);
    let ff = app.footfall(&tenant.token, &site, day, day + 86_400, "DAY").await;
    assert_eq!(ff["totals"]["in"], 10, "{ff}");

    // Again with the current token: nothing to change.
    let a = register(
        json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public, "token": token}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(
        a.body["registered"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "unchanged")
    );
    assert!(a.body["integration"].get("token").is_none());

    // Without it: a new token, the server's interfaces edited in place.
    let a = register(json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public})).await;
    assert!(
        a.body["registered"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "updated"),
        "{}",
        a.text
    );
    let newer = a.body["integration"]["token"].as_str().unwrap().to_string();
    assert_ne!(newer, token);
    assert_eq!(fake.lock().unwrap().interfaces.len(), 5);
    assert_eq!(
        post(&app, &people_url, &people_flow().to_string()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let newer_url = people_url.replace(&token, &newer);
    assert_eq!(
        post(&app, &newer_url, &people_flow().to_string()).await.status,
        StatusCode::OK
    );

    // Failures are the tenant's to see, and change nothing here.
    let a = register(json!({"baseUrl": remote, "username": "admin", "password": "wrong", "publicUrl": public})).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.text);
    assert_eq!(a.body["error"]["code"], "remote_error");
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("用户名或密码错误"),
        "{}",
        a.text
    );
    assert_eq!(
        post(&app, &newer_url, &people_flow().to_string()).await.status,
        StatusCode::OK
    );
    let a = register(
        json!({"baseUrl": format!("{remote}/slow"), "username": "admin", "password": "123456", "publicUrl": public}),
    )
    .await;
    assert_eq!(a.status, StatusCode::GATEWAY_TIMEOUT, "{}", a.text);
    assert_eq!(a.body["error"]["code"], "remote_timeout");
    let a = register(
        json!({"baseUrl": "http://127.0.0.1:1", "username": "admin", "password": "123456", "publicUrl": public}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.text);
    for (what, body) in [
        (
            "not http",
            json!({"baseUrl": "ftp://x", "username": "a", "password": "b", "publicUrl": public}),
        ),
        (
            "no public URL",
            json!({"baseUrl": remote, "username": "admin", "password": "123456"}),
        ),
        (
            "a token not ours",
            json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public, "token": token}),
        ),
        (
            "an unknown business type",
            json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public, "businessTypes": [42]}),
        ),
        (
            "a period out of range",
            json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public, "uploadPeriod": 0}),
        ),
    ] {
        let a = register(body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", a.text);
    }
    assert_eq!(
        post(&app, &newer_url, &people_flow().to_string()).await.status,
        StatusCode::OK
    );

    // Only analysis servers register; only writers may.
    let edge = integration(&app, &tenant, &site, "edge_box").await;
    let a = app
        .post(
            &format!("/api/v1/integrations/{}/register", edge["id"].as_str().unwrap()),
            &tenant.token,
            json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let viewer = app.add_user(&tenant, "viewer").await;
    let a = app
        .post(
            &format!("/api/v1/integrations/{id}/register"),
            &viewer,
            json!({"baseUrl": remote, "username": "admin", "password": "123456", "publicUrl": public}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn registering_over_graphql() {
    let app = spawn_app().await;
    let tenant = app.signup("Metro").await;
    let site = app.create_site(&tenant.token, "Central station", "Asia/Shanghai").await;
    let id = integration(&app, &tenant, &site, "analysis_server").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (remote, fake) = fake_server::start().await;
    let query = "mutation($id: ID!, $input: RegisterInput!) { registerIntegration(id: $id, input: $input) {
        token ingestPath registered { businessType action url } } }";
    let input = |password: &str| {
        json!({"baseUrl": remote, "username": "admin", "password": password,
            "publicUrl": app.url(""), "businessTypes": [41]})
    };
    let g = app
        .graphql(Some(&tenant.token), query, json!({"id": id, "input": input("123456")}))
        .await;
    let r = &g.body["data"]["registerIntegration"];
    assert_eq!(r["registered"][0]["businessType"], 41, "{}", g.text);
    assert_eq!(r["registered"][0]["action"], "added");
    assert!(r["token"].is_string());
    assert_eq!(fake.lock().unwrap().interfaces.len(), 1);
    let g = app
        .graphql(Some(&tenant.token), query, json!({"id": id, "input": input("nope")}))
        .await;
    assert_eq!(g.body["errors"][0]["extensions"]["code"], "REMOTE_ERROR", "{}", g.text);
}

#[tokio::test]
async fn large_batches_of_vehicle_records_with_images_are_taken() {
    let app = spawn_app().await;
    let tenant = app.signup("Roads").await;
    let site = app.create_site(&tenant.token, "Junction", "Asia/Shanghai").await;
    let path = integration(&app, &tenant, &site, "analysis_server").await["ingestPath"]
        .as_str()
        .unwrap()
        .to_string();
    // 40 vehicles, each with two 130 KB images: about 10 MB.
    let image = "A".repeat(130_000);
    let batch: Vec<Value> = (0..40)
        .map(|i| {
            json!({"taskNum": "100", "roadNum": 1 + i % 3, "plateNum": format!("川A{i:05}"), "vehicleType": 1,
                "snapshotTime": "2018-01-01 12:09:18", "imgBase64": image, "imgBase64Type": image})
        })
        .collect();
    let body = Value::Array(batch).to_string();
    assert!(body.len() > 9 * 1024 * 1024);
    let a = post(&app, &path, &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let jan = shanghai(2018, 1, 1, 0, 0, 0);
    let v = app
        .get(
            &format!(
                "/api/v1/sites/{site}/vehicle-counts?from={}&to={}&granularity=DAY",
                rfc3339(jan),
                rfc3339(jan + 86_400)
            ),
            &tenant.token,
        )
        .await;
    assert_eq!(v.body["totals"]["pass"], 40, "{}", v.text);

    let huge = format!("[{}]", "1,".repeat(20 * 1024 * 1024) + "1");
    let a = post(&app, &path, &huge).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(a.body["error"]["code"], "too_large");
}
