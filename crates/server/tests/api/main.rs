//! The server over real HTTP on a free port: the passport flow with five roles, the
//! authorization matrix over every route of the OpenAPI document, sign-in rules, the error
//! shape, documents, supervision and metrics. SQLite always; PostgreSQL too when
//! DRN_TEST_POSTGRES is set. One module per area; the test world (a demo server on a
//! fresh database, signed-in clients, `on_both!`) is in `support`, which the load bench
//! shares.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod authorization;
mod documents;
mod intake;
mod operations;
mod passports;
mod portal_walk;
mod refusals;
mod registries;
mod results;
mod screens;
mod security;
mod sign_in;
mod signatures;
mod signer;
mod supervision;
