//! Binding devices by serial number: normalisation, uniqueness, rename, move,
//! unbind.

use footfall_e2e::{spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn bind_list_read_rename_move_unbind() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let north = app.create_site(&t.token, "North", "Europe/London").await;
    let south = app.create_site(&t.token, "South", "Europe/London").await;

    let a = app
        .post(
            "/api/v1/devices",
            &t.token,
            json!({"sn": " 2010010000000000\t", "siteId": north, "protocol": "People-Counter", "name": "Door 1"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["sn"], "2010010000000000", "trimmed");
    assert_eq!(a.body["protocol"], "people_counter", "canonical name");
    assert_eq!(a.body["name"], "Door 1");
    assert_eq!(a.body["siteId"], north.as_str());
    assert_eq!(a.body["online"], false);
    assert_eq!(a.body["lastSeenAt"], json!(null));
    assert_eq!(
        a.body["config"],
        json!({"uploadInterval": 5, "dataMode": "ADD", "keepInterval": 60})
    );
    let id = a.body["id"].as_str().unwrap().to_string();

    let ipc = app.bind_device(&t.token, "cam-7f", &south, "ipc").await;
    assert_eq!(ipc["sn"], "CAM-7F", "upper-cased");

    let all = app.get("/api/v1/devices", &t.token).await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    let north_only = app.get(&format!("/api/v1/devices?siteId={north}"), &t.token).await;
    assert_eq!(north_only.body.as_array().unwrap().len(), 1);
    assert_eq!(north_only.body[0]["id"], id.as_str());

    let renamed = app
        .patch(&format!("/api/v1/devices/{id}"), &t.token, json!({"name": "Main door"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Main door");
    assert_eq!(renamed.body["siteId"], north.as_str(), "a rename does not move");

    let moved = app
        .patch(&format!("/api/v1/devices/{id}"), &t.token, json!({"siteId": south}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["siteId"], south.as_str());
    assert_eq!(moved.body["name"], "Main door", "a move does not rename");
    let south_list = app.get(&format!("/api/v1/devices?siteId={south}"), &t.token).await;
    assert_eq!(south_list.body.as_array().unwrap().len(), 2);

    let cleared = app
        .patch(&format!("/api/v1/devices/{id}"), &t.token, json!({"name": null}))
        .await;
    assert_eq!(cleared.body["name"], json!(null));

    let gone = app.delete(&format!("/api/v1/devices/{id}"), &t.token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/devices/{id}"), &t.token).await.status,
        StatusCode::NOT_FOUND
    );
    // The serial number is free again.
    app.bind_device(&t.token, "2010010000000000", &north, "people_counter")
        .await;
}

#[tokio::test]
async fn a_serial_number_is_bound_once_across_all_tenants() {
    let app = spawn_app().await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    let site_a = app.create_site(&a.token, "A store", "UTC").await;
    let site_b = app.create_site(&b.token, "B store", "UTC").await;
    let sn = unique_sn();
    app.bind_device(&a.token, &sn, &site_a, "people_counter").await;

    for (token, site, spelled) in [
        (&a.token, &site_a, sn.clone()),
        (&b.token, &site_b, sn.clone()),
        (&b.token, &site_b, format!("  {}  ", sn.to_lowercase())),
    ] {
        let again = app
            .post(
                "/api/v1/devices",
                token,
                json!({"sn": spelled, "siteId": site, "protocol": "ipc"}),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        assert_eq!(again.code(), "already_exists");
    }
}

#[tokio::test]
async fn bad_device_input_is_a_clear_error() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let site = app.create_site(&t.token, "Store", "UTC").await;
    let cases = [
        (
            json!({"sn": "", "siteId": site, "protocol": "ipc"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("sn"),
        ),
        (
            json!({"sn": "has space", "siteId": site, "protocol": "ipc"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("sn"),
        ),
        (
            json!({"sn": "x".repeat(65), "siteId": site, "protocol": "ipc"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("sn"),
        ),
        (
            json!({"sn": "A1", "siteId": site, "protocol": "onvif"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("protocol"),
        ),
        (
            json!({"sn": "A1", "siteId": site, "protocol": "ipc", "name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("name"),
        ),
        (
            json!({"sn": "A1", "siteId": "nope", "protocol": "ipc"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"sn": 12345, "siteId": site, "protocol": "ipc"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ];
    for (body, status, field) in cases {
        let a = app.post("/api/v1/devices", &t.token, body).await;
        assert_eq!(a.status, status, "{}", a.text);
        if let Some(field) = field {
            assert_eq!(a.body["error"]["field"], field, "{}", a.text);
        }
    }
    assert_eq!(
        app.get("/api/v1/devices", &t.token).await.body,
        json!([]),
        "nothing stored"
    );

    let d = app.bind_device(&t.token, "A1", &site, "ipc").await;
    let id = d["id"].as_str().unwrap();
    let a = app
        .patch(
            &format!("/api/v1/devices/{id}"),
            &t.token,
            json!({"siteId": "00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .get("/api/v1/devices?siteId=00000000-0000-0000-0000-000000000000", &t.token)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

/// When a device was last seen is written to the database in batches, so an
/// instance that never saw it (a restarted one, or one without the other's
/// memory) still knows.
#[tokio::test]
async fn last_seen_survives_an_instance_that_never_saw_the_device() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let site = app.create_site(&t.token, "Store", "UTC").await;
    let sn = footfall_e2e::unique_sn();
    let device = app.bind_device(&t.token, &sn, &site, "people_counter").await;
    let path = format!("/api/v1/devices/{}", device["id"].as_str().unwrap());
    assert_eq!(app.heartbeat(&sn).await["code"], 0);
    let here = app.get(&path, &t.token).await.body;
    let seen = here["lastSeenAt"].as_str().expect("seen here").to_string();

    app.state.seen_log.flush(&app.state.db).await.expect("written");
    let restarted = app.spawn_twin().await;
    let there = restarted.get(&path, &t.token).await.body;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    assert_eq!(there["lastSeenAt"].as_str().map(at), Some(at(&seen)), "{there}");
    assert_eq!(there["online"], true);
}
