//! The HTTP surface itself: health, errors in the right shape, docs pages.

use footfall_e2e::{spawn_app, storage_mode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "ok");

    let a = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["status"], "ready");
    assert_eq!(a.body["database"], "ok");
    if std::env::var("REDIS_URL").is_ok() {
        assert_eq!(a.body["redis"], "ok", "mode {}", storage_mode());
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/healthz", None, None).await;
    let id = a.headers.get("x-request-id").expect("x-request-id header");
    assert_eq!(id.to_str().unwrap().len(), 36, "a UUID");

    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42", "a caller's id is kept");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/api/v1/nothing-here", None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "not_found");

    let a = app.call(Method::PUT, "/healthz", None, None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.code(), "method_not_allowed");
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_clean_4xx() {
    let app = spawn_app().await;
    let huge = "x".repeat(300 * 1024);
    let a = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"tenantName": huge, "email": "a@b.co", "password": "longenough"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(a.code(), "payload_too_large");

    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let a = footfall_e2e::TestApp::answer(res).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "invalid_json");

    let a = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": 5, "password": []})),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.code(), "invalid_body");
    assert!(
        a.body["error"]["message"].as_str().unwrap().contains("email"),
        "{}",
        a.text
    );

    let a = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "missing fields: {}", a.text);
}

#[tokio::test]
async fn json_is_accepted_whatever_the_content_type_says() {
    // `curl -d` sends application/x-www-form-urlencoded by default.
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"tenantName":"Curl Co","email":"curl@example.com","password":"longenough"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Every `$ref` in the document, anywhere.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.extend(v.as_str().map(str::to_owned));
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_document_is_complete_and_consistent() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let a = app.call(Method::GET, "/api-docs/openapi.json", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    let spec = &a.body;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());

    // Structure: every reference resolves, operation ids are unique, every
    // operation says what it answers.
    let mut all_refs = Vec::new();
    refs(spec, &mut all_refs);
    for r in &all_refs {
        let name = r.strip_prefix("#/components/schemas/").expect("a schema reference");
        assert!(spec["components"]["schemas"][name].is_object(), "unresolved {r}");
    }
    let mut ids = std::collections::HashSet::new();
    let paths = spec["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
        }
    }
    assert!(operations >= 35, "{operations} operations");

    // Every documented operation is served: none reaches the router's
    // fallbacks (no such endpoint, method not allowed).
    let placeholder = "00000000-0000-0000-0000-000000000000";
    for (path, item) in paths {
        let concrete = path.replace("{id}", placeholder);
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            let answer = app.call(method.clone(), &concrete, Some(&t.token), body).await;
            let fallback = answer.code() == "method_not_allowed"
                || (answer.status == StatusCode::NOT_FOUND && answer.text.contains("no such endpoint"));
            assert!(
                !fallback,
                "{method} {path} is documented but not served: {}",
                answer.text
            );
        }
    }

    // And the routes the product relies on are documented.
    for (path, method) in [
        ("/api/v1/auth/signup", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/sites", "post"),
        ("/api/v1/sites/{id}", "get"),
        ("/api/v1/devices", "post"),
        ("/api/v1/devices/{id}", "delete"),
        ("/api/v1/devices/{id}/config", "put"),
        ("/api/v1/devices/{id}/history-requests", "post"),
        ("/api/v1/sites/{id}/footfall", "get"),
        ("/api/camera/heartBeat", "post"),
        ("/api/camera/dataUpload", "post"),
        ("/healthz", "get"),
        ("/graphql", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
}

#[tokio::test]
async fn docs_and_graphiql_pages_are_served_locally() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "Swagger UI page");
    assert!(!html.contains("https://"), "no assets from the internet");

    let res = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("/graphql/assets/graphiql.min.js"));
    assert!(!html.contains("https://"), "no assets from the internet");
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let res = app
            .client
            .get(app.url(&format!("/graphql/assets/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert!(res.bytes().await.unwrap().len() > 1000, "{asset} has content");
    }
}
