#![doc = include_str!("../README.md")]

pub mod access_log;
pub mod config;
pub mod crypto;
pub mod db;
pub mod districts;
pub mod erasure;
pub mod fictional;
pub mod health;
pub mod host;
pub mod identity;
pub mod keys;
pub mod nats;
pub mod projection;
pub mod reconcile;
pub mod reference;
pub mod relay;
pub mod service;
pub mod shutdown;
pub mod store;
pub mod subject_access;
pub mod telemetry;
pub mod testing;

pub use kansrijk_proto as proto;
