//! The Footfall server: device ingest, the REST API with its OpenAPI document,
//! GraphQL, health checks, and the `footfall` command line.

pub mod app;
pub mod config;
pub mod error;
pub mod extract;
pub mod graphql;
pub mod health;
pub mod ingest;
pub mod openapi;
pub mod rest;
pub mod server;
pub mod services;
pub mod state;

pub use app::build_app;
pub use config::Config;
pub use state::AppState;
