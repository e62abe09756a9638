//! Sites: create, read, change, delete, and the validation on the way.

use footfall_e2e::{spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn site_lifecycle() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;

    let a = app
        .post(
            "/api/v1/sites",
            &t.token,
            json!({"name": " Kathmandu Mall ", "timezone": "Asia/Kathmandu"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["name"], "Kathmandu Mall");
    assert_eq!(a.body["timezone"], "Asia/Kathmandu");
    let id = a.body["id"].as_str().unwrap().to_string();

    let b = app.create_site(&t.token, "Berlin", "Europe/Berlin").await;
    let list = app.get("/api/v1/sites", &t.token).await;
    let names: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Berlin", "Kathmandu Mall"], "sorted by name");

    let got = app.get(&format!("/api/v1/sites/{id}"), &t.token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, a.body);

    let renamed = app
        .patch(
            &format!("/api/v1/sites/{id}"),
            &t.token,
            json!({"name": "KTM", "timezone": "Asia/Kolkata"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "KTM");
    assert_eq!(renamed.body["timezone"], "Asia/Kolkata");
    assert_eq!(
        app.get(&format!("/api/v1/sites/{id}"), &t.token).await.body["name"],
        "KTM"
    );

    let deleted = app.delete(&format!("/api/v1/sites/{b}"), &t.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/sites/{b}"), &t.token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/v1/sites/{b}"), &t.token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_site_with_devices_cannot_be_deleted() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let site = app.create_site(&t.token, "Store", "UTC").await;
    let device = app.bind_device(&t.token, &unique_sn(), &site, "people_counter").await;

    let a = app.delete(&format!("/api/v1/sites/{site}"), &t.token).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    assert_eq!(a.code(), "conflict");

    let id = device["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/devices/{id}"), &t.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/api/v1/sites/{site}"), &t.token).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn bad_site_input_is_a_clear_error() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let cases = [
        (
            json!({"name": "Store", "timezone": "Mars/Olympus"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timezone",
        ),
        (
            json!({"name": "Store", "timezone": "+05:30"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timezone",
        ),
        (
            json!({"name": "Store", "timezone": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timezone",
        ),
        (
            json!({"name": "   ", "timezone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"name": "x".repeat(201), "timezone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
    ];
    for (body, status, field) in cases {
        let a = app.post("/api/v1/sites", &t.token, body).await;
        assert_eq!(a.status, status, "{}", a.text);
        assert_eq!(a.body["error"]["field"], field, "{}", a.text);
    }
    for body in [
        json!({"name": 42, "timezone": "UTC"}),
        json!({"timezone": "UTC"}),
        json!([1, 2]),
    ] {
        let a = app.post("/api/v1/sites", &t.token, body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.code(), "invalid_body");
    }
    let site = app.create_site(&t.token, "Store", "UTC").await;
    let a = app
        .patch(
            &format!("/api/v1/sites/{site}"),
            &t.token,
            json!({"timezone": "Nowhere"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&format!("/api/v1/sites/{site}"), &t.token).await.body["timezone"],
        "UTC",
        "unchanged"
    );

    for id in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] {
        let a = app.get(&format!("/api/v1/sites/{id}"), &t.token).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(a.code(), "not_found");
    }
}
