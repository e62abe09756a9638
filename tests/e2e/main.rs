//! End-to-end tests. Each drives a real server over HTTP; run them on SQLite
//! (`cargo test --workspace`) or on Postgres + Redis (set `DATABASE_URL` and
//! `REDIS_URL`, as `.ci/run` does).

mod accounts;
mod devices;
mod edge_box;
mod footfall;
mod graphql;
mod http;
mod integrations;
mod ipc;
mod live;
mod people_counter;
mod roles;
mod sites;
mod tenancy;
