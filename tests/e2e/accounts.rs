//! Signup, login, tokens and rate limits.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use footfall_e2e::{PASSWORD, spawn_app, spawn_app_with};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn signup_login_and_me() {
    let app = spawn_app().await;
    let a = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"tenantName": "  Acme Retail ", "email": "Ops@Acme.Example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["tokenType"], "Bearer");
    assert_eq!(a.body["expiresIn"], 3600);
    assert_eq!(a.body["tenant"]["name"], "Acme Retail");
    assert_eq!(a.body["user"]["email"], "ops@acme.example");
    assert_eq!(a.body["user"]["role"], "owner");
    let tenant_id = a.body["tenant"]["id"].clone();

    let login = app.login("ops@acme.example", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert_eq!(login.body["tenant"]["id"], tenant_id);
    let token = login.body["accessToken"].as_str().unwrap();

    let me = app.get("/api/v1/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "ops@acme.example");
    assert_eq!(me.body["tenant"]["id"], tenant_id);

    // Emails are case-insensitive at login too.
    assert_eq!(app.login(" OPS@acme.example ", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let wrong = app.login(&t.email, "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;
    let malformed = app.login("not-an-email", "x").await;
    for a in [&wrong, &unknown, &malformed] {
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    }
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, malformed.body);
    assert_eq!(wrong.code(), "unauthorized");
}

#[tokio::test]
async fn signup_rejects_bad_input_and_taken_emails() {
    let app = spawn_app().await;
    let cases: [(Value, &str); 5] = [
        (
            json!({"tenantName": "", "email": "a@b.co", "password": PASSWORD}),
            "tenantName",
        ),
        (
            json!({"tenantName": "X", "email": "not an email", "password": PASSWORD}),
            "email",
        ),
        (
            json!({"tenantName": "X", "email": "a@b.co", "password": "short"}),
            "password",
        ),
        (
            json!({"tenantName": "X", "email": "a@b.co", "password": "x".repeat(2000)}),
            "password",
        ),
        (
            json!({"tenantName": "\u{0007}bell", "email": "a@b.co", "password": PASSWORD}),
            "tenantName",
        ),
    ];
    for (body, field) in cases {
        let a = app.call(Method::POST, "/api/v1/auth/signup", None, Some(body)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.code(), "validation_failed");
        assert_eq!(a.body["error"]["field"], field, "{}", a.text);
    }

    let t = app.signup("First").await;
    let again = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"tenantName": "Second", "email": t.email.to_uppercase(), "password": PASSWORD})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.code(), "already_exists");
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let secret = "s".repeat(40);
    let app = spawn_app_with(|c| c.jwt_secret = Some("s".repeat(40))).await;
    let t = app.signup("Acme").await;
    let ok = app.get("/api/v1/sites", &t.token).await;
    assert_eq!(ok.status, StatusCode::OK);

    let claims = |exp: i64, role: &str| json!({"sub": t.user_id, "tid": t.id, "role": role, "iss": "footfall", "iat": exp - 3600, "exp": exp});
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: &Value, secret: &str| {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };

    let expired = sign(&claims(now - 120, "owner"), &secret);
    let foreign = sign(&claims(now + 600, "owner"), &"x".repeat(40));
    let parts: Vec<&str> = t.token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims(now + 600, "owner").to_string()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(now + 600, "owner").to_string())
    );
    let good = sign(&claims(now + 600, "owner"), &secret);
    assert_eq!(
        app.get("/api/v1/sites", &good).await.status,
        StatusCode::OK,
        "control: a well-made token works"
    );

    for (name, token) in [
        ("expired", expired.as_str()),
        ("other secret", foreign.as_str()),
        ("tampered payload", tampered.as_str()),
        ("alg none", alg_none.as_str()),
        ("garbage", "not.a.token"),
    ] {
        let a = app.get("/api/v1/sites", token).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{name}: {}", a.text);
        assert_eq!(a.code(), "unauthorized", "{name}");
        assert_eq!(a.headers["www-authenticate"], "Bearer");
        let g = app.graphql(Some(token), "{ sites { id } }", json!({})).await;
        assert_eq!(g.status, StatusCode::UNAUTHORIZED, "graphql {name}: {}", g.text);
        assert_eq!(g.body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    let expired_answer = app.get("/api/v1/sites", &expired).await;
    assert!(expired_answer.text.contains("expired"), "{}", expired_answer.text);

    let none = app.call(Method::GET, "/api/v1/sites", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    let basic = app
        .client
        .get(app.url("/api/v1/sites"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_account() {
    let app = spawn_app_with(|c| c.login_rate_limit = 3).await;
    let t = app.signup("Acme").await;
    for _ in 0..3 {
        assert_eq!(
            app.login(&t.email, "wrong password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = app.login(&t.email, PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "{}", blocked.text);
    assert_eq!(blocked.code(), "rate_limited");
    assert!(blocked.headers.contains_key("retry-after"));
    // Another account is not affected.
    let other = app.signup("Other").await;
    assert_eq!(app.login(&other.email, PASSWORD).await.status, StatusCode::OK);
}
