//! Who may change what: owners and admins write, viewers only read.

use footfall_e2e::{PASSWORD, spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_viewer_reads_but_cannot_change_anything() {
    let app = spawn_app().await;
    let owner = app.signup("Acme").await;
    let site = app.create_site(&owner.token, "Store", "UTC").await;
    let device = app
        .bind_device(&owner.token, &unique_sn(), &site, "people_counter")
        .await;
    let device_id = device["id"].as_str().unwrap();
    let viewer = app.add_user(&owner, "viewer").await;

    assert_eq!(
        app.get("/api/v1/sites", &viewer).await.body.as_array().unwrap().len(),
        1
    );
    assert_eq!(
        app.get(&format!("/api/v1/devices/{device_id}"), &viewer).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/api/v1/me", &viewer).await.body["user"]["role"], "viewer");

    let writes = [
        app.post("/api/v1/sites", &viewer, json!({"name": "X", "timezone": "UTC"}))
            .await,
        app.patch(&format!("/api/v1/sites/{site}"), &viewer, json!({"name": "X"}))
            .await,
        app.delete(&format!("/api/v1/sites/{site}"), &viewer).await,
        app.post(
            "/api/v1/devices",
            &viewer,
            json!({"sn": unique_sn(), "siteId": site, "protocol": "ipc"}),
        )
        .await,
        app.patch(&format!("/api/v1/devices/{device_id}"), &viewer, json!({"name": "X"}))
            .await,
        app.delete(&format!("/api/v1/devices/{device_id}"), &viewer).await,
        app.post(
            "/api/v1/users",
            &viewer,
            json!({"email": "v2@example.com", "password": PASSWORD, "role": "viewer"}),
        )
        .await,
    ];
    for a in writes {
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
        assert_eq!(a.code(), "forbidden");
    }
    let g = app
        .graphql(
            Some(&viewer),
            "mutation { createSite(name: \"X\", timezone: \"UTC\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(g.body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{}", g.text);

    // Nothing changed.
    assert_eq!(
        app.get("/api/v1/sites", &owner.token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/v1/devices", &owner.token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_admin_manages_sites_devices_and_users() {
    let app = spawn_app().await;
    let owner = app.signup("Acme").await;
    let admin = app.add_user(&owner, "admin").await;
    let site = app.create_site(&admin, "Store", "UTC").await;
    app.bind_device(&admin, &unique_sn(), &site, "people_counter").await;
    let viewer_email = "viewer@acme.example";
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": viewer_email, "password": PASSWORD, "role": "viewer"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["role"], "viewer");

    let users = app.get("/api/v1/users", &owner.token).await;
    let roles: Vec<&str> = users
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "admin", "viewer"]);

    let no_owner = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "o2@acme.example", "password": PASSWORD, "role": "owner"}),
        )
        .await;
    assert_eq!(no_owner.status, StatusCode::FORBIDDEN, "{}", no_owner.text);
    let bad_role = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "o3@acme.example", "password": PASSWORD, "role": "root"}),
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let taken = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": viewer_email, "password": PASSWORD, "role": "viewer"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let removed = app
        .delete(
            &format!("/api/v1/users/{}", created.body["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.login(viewer_email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let owner_stays = app.delete(&format!("/api/v1/users/{}", owner.user_id), &admin).await;
    assert_eq!(owner_stays.status, StatusCode::CONFLICT, "{}", owner_stays.text);
}
