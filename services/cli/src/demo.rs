//! The demo world of the local stack: one Leiden (and a Leidschendam-Voorburg beside it) that
//! every demo persona can work in. The partner registry's demo organisations
//! (`kansrijk_gateway::registry::seed`) are the organisations whose commands build the world;
//! every persona belongs to one of them. Everything else is sent as the commands those
//! organisations would send, over NATS to the running services, with command ids derived from
//! fixed seeds, so a second `kansrijk up` appends nothing.
//!
//! The world is generated relative to one date, its anchor: the day it was first loaded into this
//! database (kept in the registry), so that a later run, on any day, sends the same commands.

use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use kansrijk_vve_reach::demo::{DemoConfig, DemoReport};

use crate::catalog::Service;

/// Seeds of the demo world: a new world gets new seeds (so no command id of an older world's
/// commands is reused for different content).
const SEED_LEIDEN: u64 = 2026_0546;
const SEED_LEIDEN_SECOND_JGZ: u64 = 2026_9001;
const SEED_LEIDSCHENDAM_VOORBURG: u64 = 2026_1916;
const SEED_HANDOVER: u64 = 2026_0547;
const SEED_CASEWORK: u64 = 2026_0548;

/// The VVE part of the demo world as of `anchor`: Leiden's JGZ team, the second JGZ organisation
/// of Leiden, and Leidschendam-Voorburg.
pub(crate) fn vve_worlds(anchor: chrono::NaiveDate) -> Vec<DemoConfig> {
    vec![
        DemoConfig::leiden(SEED_LEIDEN, anchor),
        DemoConfig::leiden_second_jgz(SEED_LEIDEN_SECOND_JGZ, anchor),
        DemoConfig::leidschendam_voorburg(SEED_LEIDSCHENDAM_VOORBURG, anchor),
    ]
}

fn spinner(message: &str) -> ProgressBar {
    let s = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("static template"),
    );
    s.set_message(message.to_owned());
    s.enable_steady_tick(Duration::from_millis(120));
    s
}

/// Loads the whole demo world into a running stack (idempotent).
pub(crate) async fn load(
    database_url: &str,
    nats_url: &str,
    runnable: &[&'static Service],
) -> anyhow::Result<()> {
    let running = |name: &str| runnable.iter().any(|s| s.name == name);
    let (n, anchor) =
        kansrijk_gateway::seed_demo_world(database_url, chrono::Utc::now().date_naive())
            .await
            .context("loading the demo organisations")?;
    println!("demo data: {n} demo organisations in the partner registry");
    println!("demo data: the demo world is anchored on {anchor}");
    let client = kansrijk_runtime::nats::connect(nats_url, "kansrijk-demo").await?;

    let mut vve = DemoReport::default();
    if running("vve-reach") {
        let s = spinner("demo data: the VVE children (the first run takes a while)");
        for cfg in vve_worlds(anchor) {
            let r = kansrijk_vve_reach::demo::load_demo(&client, &cfg, 16)
                .await
                .with_context(|| {
                    format!("loading the VVE demo data of {}", cfg.jgz_organisation)
                })?;
            vve.children += r.children;
            vve.commands += r.commands;
            vve.replayed += r.replayed;
            vve.locations += r.locations;
            vve.placed.extend(r.placed);
            vve.child_ids.extend(r.child_ids);
        }
        s.finish_and_clear();
        println!(
            "demo data: {} children, {} commands ({} already there), {} childcare locations",
            vve.children, vve.commands, vve.replayed, vve.locations
        );
    }
    if running("handover") {
        let s = spinner("demo data: preschool forms and PO-VO files");
        let cfg = handover_world(anchor, &vve.placed);
        let r = kansrijk_handover::demo::load_demo(&client, &cfg, 8)
            .await
            .context("loading the handover demo data")?;
        s.finish_and_clear();
        println!(
            "demo data: {} handover files, {} commands ({} already there)",
            r.files, r.commands, r.replayed
        );
    }
    if running("casework") {
        let s = spinner("demo data: family cases");
        let r = kansrijk_casework::demo::load_demo(&client, &casework_world(anchor), 4)
            .await
            .context("loading the casework demo data")?;
        s.finish_and_clear();
        println!(
            "demo data: {} family cases, {} commands ({} already there)",
            r.cases, r.commands, r.replayed
        );
    }
    if running("privacy") && !vve.child_ids.is_empty() {
        // Subjects that no other part of the demo works on: the privacy officer's requests (a
        // legal hold, an erasure it refuses, a subject-access request) concern them.
        let in_handover: Vec<uuid::Uuid> = vve.placed.iter().map(|p| p.child_id).collect();
        let subjects: Vec<uuid::Uuid> = vve
            .child_ids
            .iter()
            .filter(|id| !in_handover.contains(id))
            .copied()
            .collect();
        let n = kansrijk_privacy::demo::load_demo(&client, &subjects, anchor)
            .await
            .context("loading the privacy officer's demo data")?;
        println!("demo data: {n} requests of the privacy officer");
    }
    Ok(())
}

/// The casework part of the demo world: the regisseur's family cases.
pub(crate) fn casework_world(anchor: chrono::NaiveDate) -> kansrijk_casework::demo::DemoConfig {
    let mut cfg = kansrijk_casework::demo::DemoConfig::leiden(SEED_CASEWORK, anchor);
    cfg.director_person = kansrijk_gateway::dev_oidc::pseudonym("regisseur");
    cfg
}

/// The handover part of the demo world: preschool forms of the VVE demo's toddlers placed at De
/// Boomhut and Het Molentje, and PO-VO files of group 8 pupils.
pub(crate) fn handover_world(
    anchor: chrono::NaiveDate,
    placed: &[kansrijk_vve_reach::demo::PlacedChild],
) -> kansrijk_handover::demo::DemoConfig {
    let mut cfg = kansrijk_handover::demo::DemoConfig::leiden(SEED_HANDOVER, anchor);
    cfg.preschool_children = placed
        .iter()
        .filter(|p| cfg.childcare.contains(&p.lrk))
        .map(|p| kansrijk_handover::demo::PreschoolChild {
            child_id: p.child_id,
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            birth_date: p.birth_date,
            lrk: p.lrk.clone(),
        })
        .collect();
    cfg
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use kansrijk_gateway::registry::seed::{demo_organisations, DEMO_ORGANISATIONS};
    use kansrijk_vve_reach::demo::{LEIDEN_VVE_LOCATIONS, LEIDSCHENDAM_VOORBURG_VVE_LOCATIONS};

    fn anchor() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 4).expect("date")
    }

    /// The VVE locations the demo refers children to are exactly the registry's VVE locations.
    #[test]
    fn the_demo_refers_to_exactly_the_registrys_vve_locations() {
        for (municipality, list) in [
            ("0546", LEIDEN_VVE_LOCATIONS),
            ("1916", LEIDSCHENDAM_VOORBURG_VVE_LOCATIONS),
        ] {
            let demo: BTreeSet<(&str, &str)> = list.iter().copied().collect();
            let registry: BTreeSet<(&str, &str)> = demo_organisations("kinderopvang", municipality)
                .filter(|o| o.vve)
                .map(|o| (o.id, o.district.unwrap_or_default()))
                .collect();
            assert_eq!(demo, registry, "{municipality}");
        }
    }

    /// Every organisation that sends a demo command is a demo organisation of the registry, of
    /// the type and municipality it acts as.
    #[test]
    fn every_sender_of_the_vve_demo_is_in_the_registry() {
        for cfg in vve_worlds(anchor()) {
            let jgz = DEMO_ORGANISATIONS
                .iter()
                .find(|o| o.id == cfg.jgz_organisation)
                .unwrap_or_else(|| panic!("{} is not in the registry", cfg.jgz_organisation));
            assert_eq!(
                (jgz.organisation_type, jgz.municipality),
                ("jgz", cfg.municipality.as_str())
            );
            let data = kansrijk_vve_reach::demo::generate(&cfg);
            for c in &data.children {
                for (sender, _, _) in kansrijk_vve_reach::demo::child_commands(c, uuid::Uuid::nil())
                {
                    if let kansrijk_vve_reach::demo::Sender::Location(lrk) = sender {
                        let o = DEMO_ORGANISATIONS
                            .iter()
                            .find(|o| o.id == lrk)
                            .unwrap_or_else(|| panic!("{lrk} is not in the registry"));
                        assert!(o.vve && o.municipality == cfg.municipality, "{lrk}");
                    }
                }
            }
        }
    }

    /// The handover demo's senders and receivers are the registry's schools and locations.
    #[test]
    fn every_party_of_the_handover_demo_is_in_the_registry() {
        let cfg = handover_world(anchor(), &[]);
        let is = |id: &str, t: &str| {
            DEMO_ORGANISATIONS
                .iter()
                .any(|o| o.id == id && o.organisation_type == t && o.municipality == "0546")
        };
        for lrk in &cfg.childcare {
            assert!(is(lrk, "kinderopvang"), "{lrk}");
        }
        for school in &cfg.primary_schools {
            assert!(is(school, "basisschool"), "{school}");
        }
        assert!(is(&cfg.secondary_school, "voortgezet-onderwijs"));
        for file in kansrijk_handover::demo::generate(&cfg).files {
            assert!(
                DEMO_ORGANISATIONS.iter().any(|o| o.id == file.sender)
                    && DEMO_ORGANISATIONS.iter().any(|o| o.id == file.receiver),
                "{} -> {}",
                file.sender,
                file.receiver
            );
        }
    }

    /// The demo's people are the development issuer's personas.
    #[test]
    fn the_demo_acts_as_the_personas() {
        assert_eq!(
            kansrijk_privacy::demo::officer().person,
            kansrijk_gateway::dev_oidc::pseudonym("privacyfunctionaris")
        );
        let cfg = casework_world(anchor());
        assert_eq!(
            cfg.director_person,
            kansrijk_casework::demo::REGISSEUR_PERSON
        );
        for (id, t) in [
            (cfg.youth_team.as_str(), "jeugdteam"),
            (cfg.jgz.as_str(), "jgz"),
            (cfg.primary_school.as_str(), "basisschool"),
            (cfg.childcare.as_str(), "kinderopvang"),
        ] {
            assert!(
                DEMO_ORGANISATIONS
                    .iter()
                    .any(|o| o.id == id && o.organisation_type == t),
                "{id}"
            );
        }
    }
}
