//! The AWS adapters against moto with real SDK calls; each test in its own moto account.

mod common;
mod console;
mod errors;
mod ledger;
mod mailer;
mod queue;
mod routes;
mod secrets;
mod shop;
mod stock;
mod store;
mod table;
