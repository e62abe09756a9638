//! The GraphQL API as a dashboard or script uses it.

use footfall_e2e::{PASSWORD, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn data(a: &footfall_e2e::Answer) -> &Value {
    assert!(a.body.get("errors").is_none(), "unexpected errors: {}", a.text);
    &a.body["data"]
}

#[tokio::test]
async fn signup_sites_and_devices_over_graphql() {
    let app = spawn_app().await;
    let signup = app
        .graphql(
            None,
            "mutation($n: String!, $e: String!, $p: String!) { signup(tenantName: $n, email: $e, password: $p) { accessToken tokenType expiresIn tenant { id name } user { email role } } }",
            json!({"n": "Graph Co", "e": "g@graph.example", "p": PASSWORD}),
        )
        .await;
    let s = &data(&signup)["signup"];
    assert_eq!(s["tokenType"], "Bearer");
    assert_eq!(s["user"]["role"], "owner");
    let login = app
        .graphql(
            None,
            "mutation { login(email: \"g@graph.example\", password: \"correct horse battery\") { accessToken } }",
            json!({}),
        )
        .await;
    let token = data(&login)["login"]["accessToken"].as_str().unwrap().to_string();

    let site = app
        .graphql(
            Some(&token),
            "mutation { createSite(name: \"Kolkata\", timezone: \"Asia/Kolkata\") { id name timezone } }",
            json!({}),
        )
        .await;
    let site_id = data(&site)["createSite"]["id"].as_str().unwrap().to_string();
    assert_eq!(data(&site)["createSite"]["timezone"], "Asia/Kolkata");

    let bound = app
        .graphql(
            Some(&token),
            "mutation($s: ID!) { bindDevice(sn: \" 2010010000000001\", siteId: $s, protocol: \"people_counter\", name: \"Gate\") { id sn name protocol online lastSeenAt config { uploadInterval dataMode } } }",
            json!({"s": site_id}),
        )
        .await;
    let d = &data(&bound)["bindDevice"];
    assert_eq!(d["sn"], "2010010000000001");
    assert_eq!(d["online"], false);
    assert_eq!(d["config"], json!({"uploadInterval": 5, "dataMode": "ADD"}));
    let device_id = d["id"].as_str().unwrap().to_string();

    let q = app
        .graphql(
            Some(&token),
            "query($s: ID!, $d: ID!) { me { email tenant { name } } sites { id name devices { id } } site(id: $s) { name devices { sn } } devices(siteId: $s) { id } device(id: $d) { name site { id } } }",
            json!({"s": site_id, "d": device_id}),
        )
        .await;
    let v = data(&q);
    assert_eq!(v["me"]["email"], "g@graph.example");
    assert_eq!(v["me"]["tenant"]["name"], "Graph Co");
    assert_eq!(v["sites"][0]["devices"][0]["id"], device_id.as_str());
    assert_eq!(v["site"]["devices"][0]["sn"], "2010010000000001");
    assert_eq!(v["devices"][0]["id"], device_id.as_str());
    assert_eq!(v["device"]["site"]["id"], site_id.as_str());

    let renamed = app
        .graphql(
            Some(&token),
            "mutation($d: ID!) { updateDevice(id: $d, name: null) { name } }",
            json!({"d": device_id}),
        )
        .await;
    assert_eq!(data(&renamed)["updateDevice"]["name"], json!(null));

    let dup = app
        .graphql(
            Some(&token),
            "mutation($s: ID!) { bindDevice(sn: \"2010010000000001\", siteId: $s, protocol: \"ipc\") { id } }",
            json!({"s": site_id}),
        )
        .await;
    assert_eq!(
        dup.body["errors"][0]["extensions"]["code"], "ALREADY_EXISTS",
        "{}",
        dup.text
    );

    let unbound = app
        .graphql(
            Some(&token),
            "mutation($d: ID!) { unbindDevice(id: $d) }",
            json!({"d": device_id}),
        )
        .await;
    assert_eq!(data(&unbound)["unbindDevice"], device_id.as_str());
}

#[tokio::test]
async fn graphql_errors_carry_codes_and_fields() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let bad_tz = app
        .graphql(
            Some(&t.token),
            "mutation { createSite(name: \"X\", timezone: \"Moon/Base\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(bad_tz.status, StatusCode::OK);
    let e = &bad_tz.body["errors"][0];
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{}", bad_tz.text);
    assert_eq!(e["extensions"]["field"], "timezone");

    let anon = app.graphql(None, "{ me { email } }", json!({})).await;
    assert_eq!(anon.body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let wrong_type = app
        .graphql(
            Some(&t.token),
            "mutation { createSite(name: 5, timezone: \"UTC\") { id } }",
            json!({}),
        )
        .await;
    assert!(wrong_type.body["errors"].is_array(), "{}", wrong_type.text);

    let bad_login = app
        .graphql(
            None,
            "mutation { login(email: \"nobody@example.com\", password: \"whatever1\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(bad_login.body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn introspection_works_and_runaway_queries_are_refused() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    // The query GraphiQL sends to draw its docs.
    let introspection = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { ...FullType } directives { name locations args { ...InputValue } } } } fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
    let a = app.graphql(None, introspection, json!({})).await;
    assert_eq!(
        a.body["data"]["__schema"]["queryType"]["name"],
        "Query",
        "{}",
        &a.text[..a.text.len().min(500)]
    );

    let mut deep = String::from("id");
    for level in 0..20 {
        deep = if level % 2 == 1 {
            format!("site {{ {deep} }}")
        } else {
            format!("devices {{ {deep} }}")
        };
    }
    let deep = format!("{{ sites {{ devices {{ {deep} }} }} }}");
    let a = app.graphql(Some(&t.token), &deep, json!({})).await;
    let msg = a.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(msg.contains("depth") || msg.contains("nested"), "{}", a.text);
}
