//! Integration tests of the gateway: the app on port 0, real NATS and PostgreSQL where needed.
//! One test binary (linking is the slow part on small machines).

mod adr;
mod auth;
mod common;
mod http;
mod matrix;
mod openapi;
mod privacy_requests;
mod production;
mod registry;
mod run;
