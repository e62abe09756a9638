//! HTTP Digest authentication of IPC camera requests (PROTOCOLS.md §2,
//! RFC 7616; decision 011).
//!
//! The camera is named by its `User-Identify` header (its device id, which
//! is the serial number it is bound by) or, failing that, by the device id
//! in its body. A request without a valid response gets `401` with a
//! challenge and a fresh nonce. A nonce is valid for
//! `FOOTFALL_DIGEST_NONCE_TTL` seconds; after that a correct response gets
//! `401` with `stale=true`, so the camera signs again without treating it as
//! a wrong password. Every `(nonce, nc)` is accepted once, on whichever
//! instance it arrives.

use std::sync::Arc;

use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use footfall_domain::Protocol;
use footfall_domain::digest::{Authorization, NonceCheck, challenge};
use footfall_infra::directory::Route;
use serde_json::json;

use crate::services::ingest;
use crate::state::AppState;

/// Why a request was not authenticated; each is logged and answered 401,
/// except an unavailable replay check (503: retry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no device id: send User-Identify")]
    NoDevice,
    #[error("no ipc device with Digest credentials is bound as {0}")]
    UnknownDevice(String),
    #[error("no Authorization header")]
    NoAuthorization,
    #[error("{0}")]
    Malformed(String),
    #[error("username {0:?} is not this device's")]
    WrongUser(String),
    #[error("realm {0:?} is not this server's")]
    WrongRealm(String),
    #[error("uri {0:?} is not the request's")]
    WrongUri(String),
    #[error("nonce not issued by this server")]
    BadNonce,
    #[error("nonce expired")]
    Stale,
    #[error("wrong password")]
    WrongResponse,
    #[error("nonce count {0} replayed")]
    Replay(String),
    #[error("replay check unavailable")]
    Unavailable,
}

/// The bound camera a request comes from, once its Digest response checks.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body_device_id: Option<&str>,
    answer_method: &str,
) -> Result<Arc<Route>, Response> {
    match check(state, method, uri, headers, body_device_id).await {
        Ok(route) => Ok(route),
        Err((refusal, sn)) => {
            let sn = sn.unwrap_or_default();
            match &refusal {
                Refusal::NoAuthorization => tracing::debug!(%sn, "IPC request challenged"),
                Refusal::Stale => tracing::debug!(%sn, "IPC nonce stale; challenged again"),
                Refusal::UnknownDevice(_) | Refusal::NoDevice => {
                    tracing::info!(%sn, reason = %refusal, "IPC request from an unknown device")
                }
                _ => tracing::warn!(%sn, reason = %refusal, "IPC request refused"),
            }
            Err(refuse(state, &refusal, answer_method))
        }
    }
}

async fn check(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body_device_id: Option<&str>,
) -> Result<Arc<Route>, (Refusal, Option<String>)> {
    let sn = headers
        .get("user-identify")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or(body_device_id.map(str::trim).filter(|s| !s.is_empty()))
        .map(str::to_string);
    let Some(sn) = sn else {
        // Challenge anyway: the signed retry may still name no device, but a
        // camera that only sends its id with credentials gets the chance.
        return Err((Refusal::NoDevice, None));
    };
    let fail = |r: Refusal| (r, Some(sn.clone()));
    let route = match ingest::resolve(state, &sn).await {
        Ok(route) if route.device.protocol == Protocol::Ipc && route.credentials.is_some() => route,
        Ok(_) | Err(ingest::IngestError::UnknownDevice) => return Err(fail(Refusal::UnknownDevice(sn.clone()))),
        Err(_) => return Err(fail(Refusal::Unavailable)),
    };
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| fail(Refusal::NoAuthorization))?;
    let auth = Authorization::parse(header).map_err(|e| fail(Refusal::Malformed(e.to_string())))?;
    let Some(credentials) = route.credentials.as_ref() else {
        return Err(fail(Refusal::UnknownDevice(sn.clone())));
    };
    if auth.username != credentials.username {
        return Err(fail(Refusal::WrongUser(auth.username.clone())));
    }
    if auth.realm != credentials.realm {
        return Err(fail(Refusal::WrongRealm(auth.realm.clone())));
    }
    if !same_uri(&auth.uri, uri) {
        return Err(fail(Refusal::WrongUri(auth.uri.clone())));
    }
    let now = Utc::now().timestamp();
    let ttl = i64::try_from(state.config.digest_nonce_ttl_secs).unwrap_or(i64::MAX);
    let nonce = state.nonce_key.check(&auth.nonce, now, ttl);
    if nonce == NonceCheck::Invalid {
        return Err(fail(Refusal::BadNonce));
    }
    if !auth.verify(credentials, method.as_str()) {
        return Err(fail(Refusal::WrongResponse));
    }
    let NonceCheck::Fresh { expires_at } = nonce else {
        return Err(fail(Refusal::Stale));
    };
    match state.nonce_counts.first_use(&auth.nonce, &auth.nc, expires_at).await {
        Ok(true) => Ok(route),
        Ok(false) => Err(fail(Refusal::Replay(auth.nc.clone()))),
        Err(e) => {
            tracing::warn!(error = %e, "Digest replay check unavailable");
            Err(fail(Refusal::Unavailable))
        }
    }
}

/// Whether the `uri` a client signed names this request: its path and
/// query, or the same in absolute form.
fn same_uri(signed: &str, request: &Uri) -> bool {
    let target = request
        .path_and_query()
        .map_or_else(|| request.path(), |pq| pq.as_str());
    if signed == target {
        return true;
    }
    match signed.parse::<Uri>() {
        Ok(parsed) if parsed.scheme().is_some() => parsed.path_and_query().is_some_and(|pq| pq.as_str() == target),
        _ => false,
    }
}

/// A `401` with a fresh challenge (or `503` when the replay check could not
/// be made), with a body in the camera protocol's shape.
fn refuse(state: &AppState, refusal: &Refusal, answer_method: &str) -> Response {
    let (status, code) = match refusal {
        Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, -503),
        _ => (StatusCode::UNAUTHORIZED, -401),
    };
    let body = json!({
        "method": answer_method,
        "error": {"errorcode": code, "errormsg": match refusal {
            Refusal::Unavailable => "temporarily unavailable, retry later",
            _ => "authentication required",
        }},
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let nonce = state.nonce_key.mint(Utc::now().timestamp(), rand::random());
        let value = challenge(
            &state.config.digest_realm,
            &nonce,
            state.digest_algorithm,
            *refusal == Refusal::Stale,
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_uris() {
        let uri: Uri = "/v1/device/keepalive?x=1".parse().unwrap();
        assert!(same_uri("/v1/device/keepalive?x=1", &uri));
        assert!(same_uri("http://cloud.example:8080/v1/device/keepalive?x=1", &uri));
        assert!(!same_uri("/v1/device/keepalive", &uri));
        assert!(!same_uri("/v1/device/tlv_report?x=1", &uri));
        assert!(!same_uri("not a uri at all", &uri));
    }
}
