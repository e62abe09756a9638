//! Live updates: GraphQL subscriptions over WebSocket.

use std::time::Duration;

use footfall_e2e::{TestApp, now, spawn_app, unique_sn};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const QUERY: &str = "subscription($s: ID!) { siteUpdates(siteId: $s) { siteId today { in out } occupancy { current source } deviceId } }";

async fn connect(app: &TestApp, init: Value) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    socket
        .send(Message::text(
            json!({"type": "connection_init", "payload": init}).to_string(),
        ))
        .await
        .unwrap();
    socket
}

/// The next JSON message, or `None` if none comes within `wait` (or the
/// connection closes).
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["type"] == "ping" || v["type"] == "pong" || v["type"] == "ka" {
                    continue;
                }
                return Some(v);
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

async fn subscribe(socket: &mut Socket, site: &str) {
    let msg = json!({"id": "1", "type": "subscribe", "payload": {"query": QUERY, "variables": {"s": site}}});
    socket.send(Message::text(msg.to_string())).await.unwrap();
}

const WAIT: Duration = Duration::from_secs(5);

/// The error code of a subscription answer (sent as `next` with `errors`, or
/// as an `error` message).
fn error_code(answer: &Value) -> Option<&str> {
    let errors = if answer["type"] == "error" {
        &answer["payload"]
    } else {
        &answer["payload"]["errors"]
    };
    errors[0]["extensions"]["code"].as_str()
}

#[tokio::test]
async fn a_site_subscription_hears_uploads() {
    let app = spawn_app().await;
    let t = app.signup("Acme").await;
    let site = app.create_site(&t.token, "Store", "UTC").await;
    let sn = unique_sn();
    let device = app.bind_device(&t.token, &sn, &site, "people_counter").await;

    let mut socket = connect(&app, json!({"Authorization": format!("Bearer {}", t.token)})).await;
    assert_eq!(next(&mut socket, WAIT).await.unwrap()["type"], "connection_ack");
    subscribe(&mut socket, &site).await;
    let first = next(&mut socket, WAIT).await.expect("an update on subscribing");
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(first["payload"]["data"]["siteUpdates"]["today"]["in"], 0);
    assert_eq!(first["payload"]["data"]["siteUpdates"]["deviceId"], Value::Null);

    let t0 = now() - 60;
    app.upload(json!({"sn": sn, "startTime": t0, "endTime": t0 + 30, "in": 7, "out": 2, "passby": 0, "turnback": 0}))
        .await;
    let update = next(&mut socket, WAIT).await.expect("an update after the upload");
    let u = &update["payload"]["data"]["siteUpdates"];
    assert_eq!(u["today"]["in"], 7, "{update}");
    assert_eq!(u["today"]["out"], 2);
    assert_eq!(u["deviceId"], device["id"]);
    assert_eq!(u["occupancy"]["current"], 5);
    assert_eq!(u["occupancy"]["source"], "IN_MINUS_OUT");
}

#[tokio::test]
async fn subscriptions_are_tenant_scoped_and_authenticated() {
    let app = spawn_app().await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    let site = app.create_site(&a.token, "A store", "UTC").await;
    let sn = unique_sn();
    app.bind_device(&a.token, &sn, &site, "people_counter").await;

    // B cannot subscribe to A's site: an error, never data.
    let mut socket = connect(&app, json!({"Authorization": format!("Bearer {}", b.token)})).await;
    assert_eq!(next(&mut socket, WAIT).await.unwrap()["type"], "connection_ack");
    subscribe(&mut socket, &site).await;
    let answer = next(&mut socket, WAIT).await.expect("an answer");
    assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer}");
    assert_eq!(answer["payload"]["data"], Value::Null);
    let t0 = now() - 60;
    app.upload(json!({"sn": sn, "startTime": t0, "endTime": t0 + 30, "in": 3, "out": 0, "passby": 0, "turnback": 0}))
        .await;
    while let Some(m) = next(&mut socket, Duration::from_secs(2)).await {
        assert_eq!(m["type"], "complete", "nothing of A's reaches B: {m}");
    }

    // No token: subscribing is refused.
    let mut anonymous = connect(&app, json!({})).await;
    assert_eq!(next(&mut anonymous, WAIT).await.unwrap()["type"], "connection_ack");
    subscribe(&mut anonymous, &site).await;
    let answer = next(&mut anonymous, WAIT).await.expect("an answer");
    assert_eq!(error_code(&answer), Some("UNAUTHENTICATED"), "{answer}");

    // A forged token: the connection is not acknowledged.
    let mut forged = connect(&app, json!({"Authorization": "Bearer not.a.token"})).await;
    let answer = next(&mut forged, WAIT).await;
    assert!(
        answer.as_ref().is_none_or(|a| a["type"] != "connection_ack"),
        "{answer:?}"
    );
}

/// Two instances sharing Postgres and Redis: a subscriber on one hears an
/// upload that arrived at the other. Needs Redis (the embedded bus is one
/// process's), so it runs in the Postgres + Redis pass of `.ci/run`.
#[tokio::test]
async fn subscribers_hear_uploads_made_at_another_instance() {
    if std::env::var("REDIS_URL").is_err() {
        eprintln!("skipped here: needs REDIS_URL (two instances share a bus only through Redis)");
        return;
    }
    let one = spawn_app().await;
    let two = one.spawn_twin().await;
    let t = one.signup("Acme").await;
    let site = one.create_site(&t.token, "Store", "UTC").await;
    let sn = unique_sn();
    one.bind_device(&t.token, &sn, &site, "people_counter").await;

    let mut socket = connect(&two, json!({"Authorization": format!("Bearer {}", t.token)})).await;
    assert_eq!(next(&mut socket, WAIT).await.unwrap()["type"], "connection_ack");
    subscribe(&mut socket, &site).await;
    assert_eq!(next(&mut socket, WAIT).await.unwrap()["type"], "next");
    let t0 = now() - 60;
    let ack = one
        .upload(json!({"sn": sn, "startTime": t0, "endTime": t0 + 30, "in": 4, "out": 0, "passby": 0, "turnback": 0}))
        .await;
    assert_eq!(ack["code"], 0);
    let update = next(&mut socket, WAIT)
        .await
        .expect("an update from the other instance");
    assert_eq!(update["payload"]["data"]["siteUpdates"]["today"]["in"], 4, "{update}");
}

/// Presence is written to Redis in batches (every 200 ms): a heartbeat at
/// one instance shows the device online at another shortly after.
#[tokio::test]
async fn a_heartbeat_at_one_instance_is_seen_at_another() {
    if std::env::var("REDIS_URL").is_err() {
        eprintln!("skipped here: needs REDIS_URL (presence is shared only through Redis)");
        return;
    }
    let one = spawn_app().await;
    let two = one.spawn_twin().await;
    let t = one.signup("Acme").await;
    let site = one.create_site(&t.token, "Store", "UTC").await;
    let sn = unique_sn();
    let device = one.bind_device(&t.token, &sn, &site, "people_counter").await;
    let path = format!("/api/v1/devices/{}", device["id"].as_str().unwrap());
    assert_eq!(one.heartbeat(&sn).await["code"], 0);
    assert_eq!(
        one.get(&path, &t.token).await.body["online"],
        true,
        "at once where it arrived"
    );
    let mut seen = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if two.get(&path, &t.token).await.body["online"] == true {
            seen = true;
            break;
        }
    }
    assert!(seen, "the other instance sees the device online within 2 s");
}
