//! Integration tests of the privacy service over a real PostgreSQL database and a real
//! nats-server per test (one binary, to keep link times down).

mod access_log;
mod common;
mod erasure_e2e;
mod keys;
mod requests;
mod retention;
mod subject_access;
mod unknown_subjects;
