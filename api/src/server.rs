//! Serving with graceful shutdown: on SIGTERM or Ctrl-C the listener stops
//! accepting, in-flight requests finish (up to the grace period), then the
//! process exits.

use std::net::SocketAddr;
use std::time::Duration;

use footfall_domain::{Error, Result};
use tokio::net::TcpListener;

use crate::app::build_app;
use crate::config::Config;
use crate::state::AppState;

pub async fn serve(config: Config) -> Result<()> {
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let listen = config.listen;
    let state = AppState::connect(config).await?;
    let app = build_app(state.clone());
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| Error::internal(format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(address = %listen, "footfall listening");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(
        async move {
            shutdown_signal().await;
            tracing::info!(
                grace_secs = grace.as_secs(),
                "shutting down; finishing in-flight requests"
            );
            let _ = stop_tx.send(true);
        },
    );
    let mut stop_rx = stop_rx;
    tokio::select! {
        result = server => result.map_err(|e| Error::internal(format!("server error: {e}")))?,
        _ = async {
            let _ = stop_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!("grace period over; dropping remaining connections"),
    }
    // What was seen since the last periodic write, and presence not yet in Redis.
    if let Err(e) = state.seen_log.flush(&state.db).await {
        tracing::warn!(error = %e, "last contact not written at shutdown");
    }
    if let Err(e) = state.presence.flush().await {
        tracing::warn!(error = %e, "presence not written at shutdown");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
