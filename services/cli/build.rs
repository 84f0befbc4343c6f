//! Rebuilds the binary when a service's migration is added or changed: `sqlx::migrate!` in
//! `catalog.rs` embeds those directories at compile time, and cargo does not watch them by itself.
fn main() {
    for service in ["privacy", "vve-reach", "handover", "views", "gateway"] {
        println!("cargo:rerun-if-changed=../{service}/migrations");
    }
}
