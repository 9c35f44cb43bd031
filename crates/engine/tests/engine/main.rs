//! The engine on both backends: SQLite always, PostgreSQL when DRN_TEST_POSTGRES holds a
//! URL (CI sets it). Each scenario gets a fresh database. One module per area; the test
//! world (an engine on a fresh database, `on_both!`) is in `support`, which the benches
//! share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod access;
mod address_certificate;
mod audit;
mod backup;
mod commands;
mod dba;
mod demo;
mod durability;
mod ending;
mod foreigners;
mod intake;
mod layers;
mod movers;
mod oms_intake;
mod online_renewal;
mod passports;
mod registries;
mod residence;
mod second_open;
mod seed_rules;
mod simulation;
mod supervision;
mod temporary_id;
mod wanted;
