//! Tenant B sees nothing of tenant A, by listing or by guessing ids, over
//! REST and GraphQL.

use footfall_e2e::{spawn_app, unique_sn};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn another_tenants_resources_are_absent() {
    let app = spawn_app().await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    let site_a = app.create_site(&a.token, "A store", "UTC").await;
    let dev_a = app.bind_device(&a.token, &unique_sn(), &site_a, "people_counter").await;
    let dev_a = dev_a["id"].as_str().unwrap();
    let site_b = app.create_site(&b.token, "B store", "UTC").await;
    let a_user = &a.user_id;

    // Listings.
    let sites = app.get("/api/v1/sites", &b.token).await;
    assert_eq!(sites.body.as_array().unwrap().len(), 1);
    assert_eq!(sites.body[0]["id"], site_b.as_str());
    assert_eq!(app.get("/api/v1/devices", &b.token).await.body, json!([]));
    let users = app.get("/api/v1/users", &b.token).await;
    assert!(!users.text.contains(a_user.as_str()));

    // Guessing ids: every answer is a plain 404, as if absent.
    let answers = [
        app.get(&format!("/api/v1/sites/{site_a}"), &b.token).await,
        app.patch(&format!("/api/v1/sites/{site_a}"), &b.token, json!({"name": "mine"}))
            .await,
        app.delete(&format!("/api/v1/sites/{site_a}"), &b.token).await,
        app.get(&format!("/api/v1/devices/{dev_a}"), &b.token).await,
        app.patch(&format!("/api/v1/devices/{dev_a}"), &b.token, json!({"name": "mine"}))
            .await,
        app.patch(&format!("/api/v1/devices/{dev_a}"), &b.token, json!({"siteId": site_b}))
            .await,
        app.delete(&format!("/api/v1/devices/{dev_a}"), &b.token).await,
        app.get(&format!("/api/v1/devices?siteId={site_a}"), &b.token).await,
        app.post(
            "/api/v1/devices",
            &b.token,
            json!({"sn": unique_sn(), "siteId": site_a, "protocol": "ipc"}),
        )
        .await,
        app.delete(&format!("/api/v1/users/{a_user}"), &b.token).await,
    ];
    for answer in answers {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
        assert_eq!(answer.code(), "not_found");
        assert!(!answer.text.contains("A store"));
    }

    // A cannot move its device into B's site either.
    let a_into_b = app
        .patch(&format!("/api/v1/devices/{dev_a}"), &a.token, json!({"siteId": site_b}))
        .await;
    assert_eq!(a_into_b.status, StatusCode::NOT_FOUND);

    // GraphQL: null for reads, NOT_FOUND for writes.
    let g = app
        .graphql(
            Some(&b.token),
            "query($s: ID!, $d: ID!) { site(id: $s) { id } device(id: $d) { id } sites { id } devices { id } }",
            json!({"s": site_a, "d": dev_a}),
        )
        .await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["data"]["site"], json!(null), "{}", g.text);
    assert_eq!(g.body["data"]["device"], json!(null));
    assert_eq!(g.body["data"]["sites"], json!([{"id": site_b}]));
    assert_eq!(g.body["data"]["devices"], json!([]));
    for mutation in [
        format!("mutation {{ updateSite(id: \"{site_a}\", name: \"x\") {{ id }} }}"),
        format!("mutation {{ deleteSite(id: \"{site_a}\") }}"),
        format!("mutation {{ updateDevice(id: \"{dev_a}\", name: \"x\") {{ id }} }}"),
        format!("mutation {{ unbindDevice(id: \"{dev_a}\") }}"),
        format!(
            "mutation {{ bindDevice(sn: \"{}\", siteId: \"{site_a}\", protocol: \"ipc\") {{ id }} }}",
            unique_sn()
        ),
    ] {
        let g = app.graphql(Some(&b.token), &mutation, json!({})).await;
        assert_eq!(
            g.body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{mutation}: {}",
            g.text
        );
    }

    // A's data is intact.
    assert_eq!(
        app.get(&format!("/api/v1/sites/{site_a}"), &a.token).await.body["name"],
        "A store"
    );
    assert_eq!(
        app.get(&format!("/api/v1/devices/{dev_a}"), &a.token).await.status,
        StatusCode::OK
    );
}
