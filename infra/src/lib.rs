//! Adapters between the Footfall domain and the outside world: the relational
//! store (sea-orm over Postgres or SQLite), Redis with in-process twins,
//! password hashing and access tokens.

pub mod accounts;
pub mod analysis_api;
pub mod blobs;
pub mod bus;
pub mod camera;
pub mod commands;
pub mod credentials;
pub mod db;
pub mod devices;
pub mod directory;
pub mod events;
pub mod footfall;
pub mod integrations;
pub mod nonces;
pub mod password;
pub mod presence;
pub mod ratelimit;
pub mod readings;
pub mod redis;
pub mod sites;
pub mod tokens;
pub mod writer;

pub use db::{Db, Engine};
