//! Demo data for a Leiden-sized municipality, generated from a seed (pure), and loaded by sending
//! the commands a JGZ nurse and the childcare locations would send ([`load_demo`]).
//!
//! The shape follows the facts in DOMAIN.md: about 1,300 births a year; about 17% of toddlers get
//! a VVE indication (more in the districts whose schools have a high school score, from the real
//! reference data in `data/leiden-basisscholen.csv`); about three quarters of the indicated are
//! reached, mostly with 16 hours a week; the rest are not, for the reasons of the national
//! non-reach studies (parents decline for a reason category, waiting list, unreachable despite
//! outreach, referral pending, moved away). All people are fictional; BSNs pass the 11-proef but
//! start with 9, names come from a short list, and LRK numbers are made up.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::Client;
use chrono::{Datelike, Days, Months, NaiveDate};
use futures::StreamExt;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use kansrijk_proto::vve::{
    self, DeclineReason, OutreachChannel, OutreachOutcome, PlacementEndReason,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::api::{self, commands};

/// The reference data: Leiden's primary schools with pupils, school score and district.
pub const LEIDEN_SCHOOLS_CSV: &str = include_str!("../data/leiden-basisscholen.csv");

/// One school row.
#[derive(Debug, Clone, PartialEq)]
pub struct School {
    pub brin: String,
    pub name: String,
    pub pupils: u32,
    pub score: f64,
    pub district: String,
}

/// Reads the schools; rows without a district (`#N/B`) or malformed are reported, not used.
pub fn schools() -> (Vec<School>, Vec<String>) {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for (i, line) in LEIDEN_SCHOOLS_CSV.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let parsed = (f.len() == 5)
            .then(|| Some((f[2].parse::<u32>().ok()?, f[3].parse::<f64>().ok()?)))
            .flatten();
        match parsed {
            Some((pupils, score)) if f[4] != "#N/B" && !f[4].is_empty() => ok.push(School {
                brin: f[0].into(),
                name: f[1].into(),
                pupils,
                score,
                district: f[4].into(),
            }),
            _ => skipped.push(format!("regel {}: geen bruikbare wijk of getallen", i + 1)),
        }
    }
    (ok, skipped)
}

/// A district's weight for births and for indications.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictWeight {
    pub district: String,
    pub pupils: u32,
    /// Pupil-weighted mean school score.
    pub mean_score: f64,
}

pub fn districts() -> Vec<DistrictWeight> {
    let (schools, _) = schools();
    let mut by: BTreeMap<String, (u32, f64)> = BTreeMap::new();
    for s in schools {
        let e = by.entry(s.district).or_default();
        e.0 += s.pupils;
        e.1 += s.score * f64::from(s.pupils);
    }
    by.into_iter()
        .map(|(district, (pupils, weighted))| DistrictWeight {
            district,
            pupils,
            mean_score: weighted / f64::from(pupils.max(1)),
        })
        .collect()
}

/// Settings of the generator.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub seed: u64,
    pub municipality: String,
    pub births_per_year: u32,
    /// Share of toddlers with an indication (municipality-wide).
    pub indicated_share: f64,
    /// Share of indicated toddlers that is reached.
    pub reached_share: f64,
    /// The day the data set ends (nothing after it).
    pub today: NaiveDate,
    /// Birth cohorts from this many years before `today` (history for the trend).
    pub years_of_births: u32,
    /// The JGZ organisation that registers and indicates.
    pub jgz_organisation: String,
    /// The districts children live in, weighted by pupils and school score.
    pub districts: Vec<DistrictWeight>,
    /// The VVE locations children are referred to (at least one per district).
    pub locations: Vec<DemoLocation>,
    /// Toddlers registered at birth and not yet indicated, now about two years old: due for the
    /// indication at the two-year consultation.
    pub due_for_indication: u32,
}

/// The VVE locations of the demo world (LRK number, district), as in the partner registry's demo
/// organisations (`kansrijk_gateway::registry::seed`; a test of the CLI keeps the two equal).
pub const LEIDEN_VVE_LOCATIONS: &[(&str, &str)] = &[
    ("100000001", "Leiden-Noord"),
    ("100000011", "Leiden-Noord"),
    ("100000002", "Morsdistrict"),
    ("100000012", "Binnenstad-Zuid"),
    ("100000013", "Boerhaavedistrict"),
    ("100000014", "Bos- en Gasthuisdistrict"),
    ("100000015", "Merenwijkdistrict"),
    ("100000016", "Merenwijkdistrict"),
    ("100000017", "Roodenburgerdistrict"),
    ("100000018", "Stevenshofdistrict"),
];
/// Leidschendam-Voorburg's VVE locations of the demo world.
pub const LEIDSCHENDAM_VOORBURG_VVE_LOCATIONS: &[(&str, &str)] = &[
    ("100000021", "Leidschendam"),
    ("100000022", "Voorburg"),
    ("100000023", "Stompwijk"),
];

fn locations_of(list: &[(&str, &str)]) -> Vec<DemoLocation> {
    list.iter()
        .map(|(lrk, district)| DemoLocation {
            lrk: (*lrk).to_owned(),
            district: (*district).to_owned(),
        })
        .collect()
}

impl DemoConfig {
    /// Leiden (0546) as of `today`, registered and indicated by JGZ Hollands Midden, team Leiden.
    pub fn leiden(seed: u64, today: NaiveDate) -> Self {
        DemoConfig {
            seed,
            municipality: "0546".into(),
            births_per_year: 1300,
            indicated_share: 0.17,
            reached_share: 0.75,
            today,
            years_of_births: 5,
            jgz_organisation: "00000001000000001001".into(),
            districts: districts(),
            locations: locations_of(LEIDEN_VVE_LOCATIONS),
            due_for_indication: 12,
        }
    }

    /// The few Leiden children of the second JGZ organisation (Stichting Jeugdgezondheid Rijnland,
    /// Merenwijkdistrict), so that its nurse has a worklist of her own.
    pub fn leiden_second_jgz(seed: u64, today: NaiveDate) -> Self {
        let mut cfg = DemoConfig::leiden(seed, today);
        cfg.jgz_organisation = "90000001".into();
        cfg.births_per_year = 60;
        cfg.districts.retain(|d| d.district == "Merenwijkdistrict");
        cfg.locations.retain(|l| l.district == "Merenwijkdistrict");
        cfg.due_for_indication = 3;
        cfg
    }

    /// Leidschendam-Voorburg (1916): its own JGZ team, districts and locations (no school scores
    /// in the reference data: the districts weigh equally).
    pub fn leidschendam_voorburg(seed: u64, today: NaiveDate) -> Self {
        let district = |name: &str, pupils| DistrictWeight {
            district: name.into(),
            pupils,
            mean_score: 300.0,
        };
        DemoConfig {
            seed,
            municipality: "1916".into(),
            births_per_year: 700,
            indicated_share: 0.14,
            reached_share: 0.8,
            today,
            years_of_births: 5,
            jgz_organisation: "00000001000000001002".into(),
            districts: vec![
                district("Leidschendam", 2400),
                district("Voorburg", 3000),
                district("Stompwijk", 300),
            ],
            locations: locations_of(LEIDSCHENDAM_VOORBURG_VVE_LOCATIONS),
            due_for_indication: 5,
        }
    }
}

/// A childcare location offering VVE.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLocation {
    pub lrk: String,
    pub district: String,
}

/// One step in a child's record, in date order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Outreach {
        on: NaiveDate,
        channel: OutreachChannel,
        outcome: OutreachOutcome,
    },
    Refer {
        on: NaiveDate,
        referrals: Vec<(Uuid, String)>,
    },
    WaitingList {
        on: NaiveDate,
        referral: Uuid,
        lrk: String,
    },
    Accept {
        on: NaiveDate,
        referral: Uuid,
        lrk: String,
    },
    Start {
        on: NaiveDate,
        placement: Uuid,
        lrk: String,
        hours: u8,
        referral: Option<Uuid>,
    },
    ChangeHours {
        on: NaiveDate,
        placement: Uuid,
        lrk: String,
        hours: u8,
    },
    Attendance {
        month: String,
        placement: Uuid,
        lrk: String,
        hours: u16,
    },
    End {
        on: NaiveDate,
        placement: Uuid,
        lrk: String,
        reason: PlacementEndReason,
    },
    Declined {
        on: NaiveDate,
        reason: DeclineReason,
    },
    MovedAway {
        on: NaiveDate,
    },
}

impl Step {
    /// The domain command of this step and the organisation (LRK number or JGZ) that sends it.
    pub fn into_command(self, jgz: &str) -> (String, crate::domain::child::Command) {
        use crate::domain::child::Command;
        match self {
            Step::Outreach {
                on,
                channel,
                outcome,
            } => (
                jgz.to_owned(),
                Command::RecordOutreach {
                    attempted_on: on,
                    channel,
                    outcome,
                },
            ),
            Step::Refer { on, referrals } => (
                jgz.to_owned(),
                Command::Refer {
                    referred_on: on,
                    locations: referrals.into_iter().map(|(id, l)| (id, l, true)).collect(),
                },
            ),
            Step::WaitingList { on, referral, lrk } => (
                lrk,
                Command::PutOnWaitingList {
                    referral_id: referral,
                    listed_on: on,
                    expected_start: None,
                },
            ),
            Step::Accept { on, referral, lrk } => (
                lrk,
                Command::AcceptReferral {
                    referral_id: referral,
                    accepted_on: on,
                },
            ),
            Step::Start {
                on,
                placement,
                lrk,
                hours,
                referral,
            } => (
                lrk,
                Command::StartPlacement {
                    placement_id: placement,
                    start_on: on,
                    hours_per_week: hours,
                    referral_id: referral,
                },
            ),
            Step::ChangeHours {
                on,
                placement,
                lrk,
                hours,
            } => (
                lrk,
                Command::ChangeHours {
                    placement_id: placement,
                    from_on: on,
                    hours_per_week: hours,
                },
            ),
            Step::Attendance {
                month,
                placement,
                lrk,
                hours,
            } => (
                lrk,
                Command::RecordAttendance {
                    placement_id: placement,
                    month,
                    hours,
                },
            ),
            Step::End {
                on,
                placement,
                lrk,
                reason,
            } => (
                lrk,
                Command::EndPlacement {
                    placement_id: placement,
                    end_on: on,
                    reason,
                },
            ),
            Step::Declined { on, reason } => (
                jgz.to_owned(),
                Command::RecordDeclined {
                    declined_on: on,
                    reason,
                },
            ),
            Step::MovedAway { on } => (jgz.to_owned(), Command::RecordMovedAway { moved_on: on }),
        }
    }
}

/// One fictional child.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoChild {
    pub bsn: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: NaiveDate,
    pub postcode: String,
    pub district: String,
    pub registered_on: NaiveDate,
    pub indicated_on: NaiveDate,
    pub criteria: Vec<String>,
    pub steps: Vec<Step>,
    /// Command ids, stable for a seed: loading twice appends nothing the second time.
    pub command_seed: u128,
}

/// A toddler registered at birth and not yet indicated.
#[derive(Debug, Clone, PartialEq)]
pub struct DueChild {
    pub bsn: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: NaiveDate,
    pub postcode: String,
    pub district: String,
    pub registered_on: NaiveDate,
    pub command_seed: u128,
}

/// The whole data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub locations: Vec<DemoLocation>,
    pub children: Vec<DemoChild>,
    /// Registered, not yet indicated, about two years old.
    pub due_for_indication: Vec<DueChild>,
    /// Rows of the reference data that could not be used, with the reason.
    pub skipped_reference_rows: Vec<String>,
}

use kansrijk_runtime::fictional::{FAMILY_NAMES as FAMILY, GIVEN_NAMES as GIVEN};
const POSTCODES: &[(&str, &[u32])] = &[
    ("Binnenstad-Zuid", &[2311, 2312]),
    ("Boerhaavedistrict", &[2333]),
    ("Bos- en Gasthuisdistrict", &[2331, 2334]),
    ("Leiden-Noord", &[2313, 2315, 2316]),
    ("Merenwijkdistrict", &[2317, 2318]),
    ("Morsdistrict", &[2321, 2322]),
    ("Roodenburgerdistrict", &[2324, 2325]),
    ("Stevenshofdistrict", &[2332]),
    ("Leidschendam", &[2262, 2264, 2265]),
    ("Voorburg", &[2271, 2272, 2273, 2274, 2275]),
    ("Stompwijk", &[2266]),
];

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

/// Picks an index by weights.
fn weighted(rng: &mut StdRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

fn fictional_bsn(rng: &mut StdRng) -> String {
    kansrijk_runtime::fictional::bsn(rng)
}

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn days(rng: &mut StdRng, lo: u64, hi: u64) -> Days {
    Days::new(rng.gen_range(lo..=hi))
}

/// Generates the data set (pure: the same config gives the same data).
pub fn generate(cfg: &DemoConfig) -> DemoData {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let (_, skipped) = schools();
    let ds = &cfg.districts;
    // Births follow pupils; indications lean towards districts with high school scores.
    let birth_w: Vec<f64> = ds.iter().map(|d| f64::from(d.pupils)).collect();
    let mean_score = ds
        .iter()
        .map(|d| d.mean_score * f64::from(d.pupils))
        .sum::<f64>()
        / birth_w.iter().sum::<f64>().max(1.0);
    let lean: Vec<f64> = ds
        .iter()
        .map(|d| 0.5 + d.mean_score / mean_score.max(1.0))
        .collect();
    let lean_mean = ds
        .iter()
        .zip(&lean)
        .map(|(d, l)| l * f64::from(d.pupils))
        .sum::<f64>()
        / birth_w.iter().sum::<f64>().max(1.0);
    let locations = cfg.locations.clone();

    let criteria_pool = [
        ("thuistaal-niet-nederlands", 0.55),
        ("opleiding-ouders", 0.45),
        ("taalachterstand", 0.35),
        ("ontwikkelingsachterstand", 0.12),
        ("overig-oordeel-jgz", 0.06),
    ];
    let decline_w: [(DeclineReason, f64); 9] = [
        (DeclineReason::GeenBehoefte, 25.0),
        (DeclineReason::OpvoedenThuis, 20.0),
        (DeclineReason::TwijfelKwaliteit, 10.0),
        (DeclineReason::TeSchools, 10.0),
        (DeclineReason::Kosten, 10.0),
        (DeclineReason::Afstand, 8.0),
        (DeclineReason::Openingstijden, 7.0),
        (DeclineReason::Papierwerk, 5.0),
        (DeclineReason::Anders, 5.0),
    ];

    let first_birth = cfg
        .today
        .checked_sub_months(Months::new(12 * cfg.years_of_births))
        .unwrap_or(cfg.today);
    let last_birth = cfg
        .today
        .checked_sub_months(Months::new(24))
        .unwrap_or(cfg.today);
    let span = (last_birth - first_birth).num_days().max(1) as u64;
    let births = u64::from(cfg.births_per_year) * span / 365;
    let catalogue = crate::domain::Catalogue::builtin();
    let mut children = Vec::new();
    let mut used_bsns = std::collections::HashSet::new();
    for _ in 0..births {
        let birth = first_birth + Days::new(rng.gen_range(0..span));
        let di = weighted(&mut rng, &birth_w);
        let p = (cfg.indicated_share * lean[di] / lean_mean.max(f64::MIN_POSITIVE)).min(0.9);
        if !rng.gen_bool(p) {
            continue;
        }
        let district = ds[di].district.clone();
        let start = vve::window_start(birth);
        let end = vve::window_end(birth);
        // JGZ indicates around the two-year consultation, sometimes later.
        let indicated_on = birth
            .checked_add_months(Months::new(rng.gen_range(24..=33)))
            .unwrap_or(start);
        if indicated_on > cfg.today {
            continue;
        }
        // Only criteria of the definition in force on the indication's date.
        let valid: Vec<&str> = catalogue
            .applicable(&cfg.municipality, indicated_on)
            .map(|(_, cs)| cs.iter().map(|c| c.code.as_str()).collect())
            .unwrap_or_default();
        if valid.is_empty() {
            continue;
        }
        let mut criteria: Vec<String> = criteria_pool
            .iter()
            .filter(|(_, p)| rng.gen_bool(*p))
            .map(|(c, _)| (*c).to_owned())
            .filter(|c| valid.contains(&c.as_str()))
            .collect();
        if criteria.is_empty() {
            criteria.push(valid[0].to_owned());
        }
        let postcode = postcode_in(&mut rng, &district);
        let local: Vec<&DemoLocation> = locations
            .iter()
            .filter(|l| l.district == district)
            .collect();
        let mut steps = Vec::new();
        let mut t = indicated_on;
        let reached = rng.gen_bool(cfg.reached_share);
        // Outreach: most families get a call or a visit first.
        if rng.gen_bool(0.6) {
            t = t + days(&mut rng, 3, 20);
            steps.push(Step::Outreach {
                on: t,
                channel: *pick(
                    &mut rng,
                    &[
                        OutreachChannel::Telefoon,
                        OutreachChannel::Huisbezoek,
                        OutreachChannel::Brief,
                    ],
                ),
                outcome: OutreachOutcome::Bereikt,
            });
        }
        let lrk = pick(&mut rng, &local).lrk.clone();
        let referral = uuid(&mut rng);
        if reached {
            t = t + days(&mut rng, 5, 30);
            steps.push(Step::Refer {
                on: t,
                referrals: vec![(referral, lrk.clone())],
            });
            if rng.gen_bool(0.2) {
                t = t + days(&mut rng, 3, 10);
                steps.push(Step::WaitingList {
                    on: t,
                    referral,
                    lrk: lrk.clone(),
                });
                t = t + days(&mut rng, 20, 90);
            } else {
                t = t + days(&mut rng, 3, 15);
            }
            steps.push(Step::Accept {
                on: t,
                referral,
                lrk: lrk.clone(),
            });
            let begin = (t + days(&mut rng, 7, 45)).max(start);
            // A child accepted too close to its fourth birthday is never placed.
            if begin < end {
                let placement = uuid(&mut rng);
                let hours = *pick(&mut rng, &[16, 16, 16, 16, 16, 16, 16, 12, 12, 8, 20, 20]);
                steps.push(Step::Start {
                    on: begin,
                    placement,
                    lrk: lrk.clone(),
                    hours,
                    referral: Some(referral),
                });
                if hours < 16 && rng.gen_bool(0.3) {
                    let on = begin + days(&mut rng, 60, 200);
                    if on < end {
                        steps.push(Step::ChangeHours {
                            on,
                            placement,
                            lrk: lrk.clone(),
                            hours: 16,
                        });
                    }
                }
                // Attendance for the last three complete months of a running placement.
                for back in 1..=3u32 {
                    let Some(first) =
                        NaiveDate::from_ymd_opt(cfg.today.year(), cfg.today.month(), 1)
                            .and_then(|d| d.checked_sub_months(Months::new(back)))
                    else {
                        continue;
                    };
                    let last = first
                        .checked_add_months(Months::new(1))
                        .and_then(|d| d.pred_opt())
                        .unwrap_or(first);
                    if begin <= first && end > last {
                        steps.push(Step::Attendance {
                            month: first.format("%Y-%m").to_string(),
                            placement,
                            lrk: lrk.clone(),
                            hours: u16::from(hours) * 4 - rng.gen_range(0..8),
                        });
                    }
                }
                if let Some(last_day) = end.pred_opt() {
                    steps.push(Step::End {
                        on: last_day,
                        placement,
                        lrk: lrk.clone(),
                        reason: PlacementEndReason::NaarBasisschool,
                    });
                }
            }
        } else {
            match weighted(&mut rng, &[50.0, 15.0, 15.0, 10.0, 10.0]) {
                0 => {
                    t = t + days(&mut rng, 5, 40);
                    let reasons: Vec<f64> = decline_w.iter().map(|(_, w)| *w).collect();
                    let reason = decline_w[weighted(&mut rng, &reasons)].0;
                    steps.push(Step::Declined { on: t, reason });
                }
                1 => {
                    t = t + days(&mut rng, 5, 30);
                    steps.push(Step::Refer {
                        on: t,
                        referrals: vec![(referral, lrk.clone())],
                    });
                    t = t + days(&mut rng, 3, 10);
                    steps.push(Step::WaitingList {
                        on: t,
                        referral,
                        lrk: lrk.clone(),
                    });
                }
                2 => {
                    for _ in 0..rng.gen_range(2..=3) {
                        t = t + days(&mut rng, 7, 25);
                        steps.push(Step::Outreach {
                            on: t,
                            channel: *pick(
                                &mut rng,
                                &[
                                    OutreachChannel::Telefoon,
                                    OutreachChannel::Brief,
                                    OutreachChannel::Huisbezoek,
                                ],
                            ),
                            outcome: OutreachOutcome::NietBereikt,
                        });
                    }
                }
                3 => {
                    t = t + days(&mut rng, 5, 30);
                    steps.push(Step::Refer {
                        on: t,
                        referrals: vec![(referral, lrk.clone())],
                    });
                }
                _ => {
                    t = t + days(&mut rng, 20, 150);
                    steps.push(Step::MovedAway { on: t });
                }
            }
        }
        // Nothing happens after today.
        steps.retain(|s| step_date(s) <= cfg.today);
        // An end before its start (a child placed after its fourth birthday) cannot happen; a
        // placement whose start fell after today takes its attendance and end with it.
        let started: Vec<Uuid> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Start { placement, .. } => Some(*placement),
                _ => None,
            })
            .collect();
        steps.retain(|s| match s {
            Step::ChangeHours { placement, .. }
            | Step::Attendance { placement, .. }
            | Step::End { placement, .. } => started.contains(placement),
            _ => true,
        });
        steps.sort_by_key(step_date);
        let mut bsn = fictional_bsn(&mut rng);
        while !used_bsns.insert(bsn.clone()) {
            bsn = fictional_bsn(&mut rng);
        }
        children.push(DemoChild {
            bsn,
            given_name: (*pick(&mut rng, GIVEN)).to_owned(),
            family_name: (*pick(&mut rng, FAMILY)).to_owned(),
            birth_date: birth,
            postcode,
            district,
            registered_on: indicated_on.pred_opt().unwrap_or(indicated_on),
            indicated_on,
            criteria,
            steps,
            command_seed: rng.gen(),
        });
    }
    // Registered at birth, about two years old now, not yet indicated.
    let mut due_for_indication = Vec::new();
    for _ in 0..cfg.due_for_indication {
        let Some(birth) = cfg
            .today
            .checked_sub_months(Months::new(rng.gen_range(20..=25)))
            .map(|d| d - days(&mut rng, 0, 27))
        else {
            continue;
        };
        let di = weighted(&mut rng, &birth_w);
        let district = ds[di].district.clone();
        let postcode = postcode_in(&mut rng, &district);
        let mut bsn = fictional_bsn(&mut rng);
        while !used_bsns.insert(bsn.clone()) {
            bsn = fictional_bsn(&mut rng);
        }
        due_for_indication.push(DueChild {
            bsn,
            given_name: (*pick(&mut rng, GIVEN)).to_owned(),
            family_name: (*pick(&mut rng, FAMILY)).to_owned(),
            birth_date: birth,
            postcode,
            district,
            registered_on: birth + Days::new(10),
            command_seed: rng.gen(),
        });
    }
    DemoData {
        locations,
        children,
        due_for_indication,
        skipped_reference_rows: skipped,
    }
}

/// A postcode of the district (digits from the district's postcode areas, letters at random).
fn postcode_in(rng: &mut StdRng, district: &str) -> String {
    let codes = POSTCODES
        .iter()
        .find(|(d, _)| *d == district)
        .map_or(&[2311u32][..], |(_, c)| c);
    let letters: String = (0..2).map(|_| rng.gen_range(b'A'..=b'Z') as char).collect();
    format!("{} {}", pick(rng, codes), letters)
}

fn step_date(s: &Step) -> NaiveDate {
    match s {
        Step::Outreach { on, .. }
        | Step::Refer { on, .. }
        | Step::WaitingList { on, .. }
        | Step::Accept { on, .. }
        | Step::Start { on, .. }
        | Step::ChangeHours { on, .. }
        | Step::End { on, .. }
        | Step::Declined { on, .. }
        | Step::MovedAway { on } => *on,
        Step::Attendance { month, .. } => {
            // The month's last day: attendance is recorded once the month is over.
            NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.checked_add_months(Months::new(1)))
                .and_then(|d| d.pred_opt())
                .unwrap_or(NaiveDate::MAX)
        }
    }
}

/// Who sends a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    Jgz,
    Location(String),
}

fn code<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn d(x: NaiveDate) -> String {
    x.format("%Y-%m-%d").to_string()
}

/// The commands (after registration, which yields the child id) that replay a child's record.
pub fn child_commands(c: &DemoChild, child: Uuid) -> Vec<(Sender, &'static str, Value)> {
    let mut out = vec![(
        Sender::Jgz,
        commands::ISSUE_INDICATION,
        json!({ "kindId": child, "afgegevenOp": d(c.indicated_on), "criteria": c.criteria }),
    )];
    for s in &c.steps {
        out.push(match s {
            Step::Outreach { on, channel, outcome } => (
                Sender::Jgz,
                commands::RECORD_OUTREACH,
                json!({ "kindId": child, "datum": d(*on), "kanaal": code(channel), "uitkomst": code(outcome) }),
            ),
            Step::Refer { on, referrals } => (
                Sender::Jgz,
                commands::REFER,
                json!({
                    "kindId": child, "doorverwezenOp": d(*on),
                    "locaties": referrals.iter().map(|(_, l)| l).collect::<Vec<_>>(),
                    "verwijzingIds": referrals.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                }),
            ),
            Step::WaitingList { on, referral, lrk } => (
                Sender::Location(lrk.clone()),
                commands::WAITING_LIST,
                json!({ "kindId": child, "verwijzingId": referral, "datum": d(*on) }),
            ),
            Step::Accept { on, referral, lrk } => (
                Sender::Location(lrk.clone()),
                commands::ACCEPT_REFERRAL,
                json!({ "kindId": child, "verwijzingId": referral, "datum": d(*on) }),
            ),
            Step::Start { on, placement, lrk, hours, referral } => (
                Sender::Location(lrk.clone()),
                commands::START_PLACEMENT,
                json!({ "kindId": child, "plaatsingId": placement, "startdatum": d(*on), "urenPerWeek": hours, "verwijzingId": referral }),
            ),
            Step::ChangeHours { on, placement, lrk, hours } => (
                Sender::Location(lrk.clone()),
                commands::CHANGE_HOURS,
                json!({ "kindId": child, "plaatsingId": placement, "perDatum": d(*on), "urenPerWeek": hours }),
            ),
            Step::Attendance { month, placement, lrk, hours } => (
                Sender::Location(lrk.clone()),
                commands::RECORD_ATTENDANCE,
                json!({ "kindId": child, "plaatsingId": placement, "maand": month, "uren": hours }),
            ),
            Step::End { on, placement, lrk, reason } => (
                Sender::Location(lrk.clone()),
                commands::END_PLACEMENT,
                json!({ "kindId": child, "plaatsingId": placement, "einddatum": d(*on), "reden": code(reason) }),
            ),
            Step::Declined { on, reason } => (
                Sender::Jgz,
                commands::RECORD_DECLINED,
                json!({ "kindId": child, "datum": d(*on), "reden": reason.as_str() }),
            ),
            Step::MovedAway { on } => (
                Sender::Jgz,
                commands::RECORD_MOVED_AWAY,
                json!({ "kindId": child, "verhuisdOp": d(*on) }),
            ),
        });
    }
    out
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub children: usize,
    pub commands: usize,
    /// Commands that had been sent before (a repeated load).
    pub replayed: usize,
    pub locations: usize,
    /// Children placed at a location as of `today`, for the handover demo's preschool forms.
    pub placed: Vec<PlacedChild>,
    /// Every registered child's id (a subject of the privacy service).
    pub child_ids: Vec<Uuid>,
}

/// A child with a running placement on the demo's `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedChild {
    pub child_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: NaiveDate,
    pub lrk: String,
}

impl DemoChild {
    /// The location of the placement running on `on`, if any.
    pub fn placed_at(&self, on: NaiveDate) -> Option<&str> {
        let mut at = None;
        for s in &self.steps {
            match s {
                Step::Start { on: start, lrk, .. } if *start <= on => at = Some(lrk.as_str()),
                Step::End { on: end, .. } if *end < on => at = None,
                _ => {}
            }
        }
        at
    }
}

fn actor(cfg: &DemoConfig, sender: &Sender) -> Actor {
    let (organisation, organisation_type, role) = match sender {
        Sender::Jgz => (
            cfg.jgz_organisation.clone(),
            OrganisationType::Jgz,
            "jeugdverpleegkundige",
        ),
        Sender::Location(lrk) => (
            lrk.clone(),
            OrganisationType::Kinderopvang,
            "pedagogisch-medewerker",
        ),
    };
    Actor {
        person: "demo".into(),
        organisation,
        organisation_type,
        role: role.into(),
        municipality: cfg.municipality.clone(),
        purpose: Purpose::Zorgverlening,
    }
}

/// Sends one demo command, retried with the same command id while the service (or the registry or
/// privacy service it asks) is briefly unavailable.
async fn send(
    client: &Client,
    who: &Actor,
    name: &str,
    body: &Value,
    id: Uuid,
) -> Result<CommandAccepted, Problem> {
    kansrijk_runtime::nats::request_retrying(
        client,
        api::command_subject(name),
        kansrijk_runtime::nats::request_headers(who, Some(id), None),
        body,
        Duration::from_secs(30),
        8,
    )
    .await
}

/// Registers one child as the JGZ organisation; its id.
#[allow(clippy::too_many_arguments)]
async fn register(
    client: &Client,
    cfg: &DemoConfig,
    bsn: &str,
    given_name: &str,
    family_name: &str,
    birth_date: NaiveDate,
    postcode: &str,
    district: &str,
    registered_on: NaiveDate,
    id: Uuid,
) -> anyhow::Result<CommandAccepted> {
    send(
        client,
        &actor(cfg, &Sender::Jgz),
        commands::REGISTER_CHILD,
        &json!({
            "bsn": bsn, "voornaam": given_name, "achternaam": family_name,
            "geboortedatum": d(birth_date), "postcode": postcode, "wijk": district,
            "gemeente": cfg.municipality, "ingeschrevenOp": d(registered_on),
        }),
        id,
    )
    .await
    .map_err(|p| {
        anyhow::anyhow!(
            "registration refused: {} {:?} {:?}",
            p.status,
            p.code,
            p.invalid_params
        )
    })
}

/// Loads the demo data set through the service's NATS endpoints (the service must be running),
/// as the JGZ organisation and the locations would. Command ids derive from the seed, so loading
/// the same data set again appends nothing. Children are loaded `parallel` at a time.
pub async fn load_demo(
    client: &Client,
    cfg: &DemoConfig,
    parallel: usize,
) -> anyhow::Result<DemoReport> {
    let data = generate(cfg);
    let indicated = futures::stream::iter(data.children.iter().map(|c| async move {
        let id = |i: u128| Uuid::from_u128(c.command_seed.wrapping_add(i));
        let registered = register(
            client,
            cfg,
            &c.bsn,
            &c.given_name,
            &c.family_name,
            c.birth_date,
            &c.postcode,
            &c.district,
            c.registered_on,
            id(0),
        )
        .await?;
        let mut n = 1usize;
        let mut replayed = usize::from(!registered.first_time);
        for (i, (sender, name, body)) in child_commands(c, registered.stream_id)
            .into_iter()
            .enumerate()
        {
            let r = send(client, &actor(cfg, &sender), name, &body, id(i as u128 + 1))
                .await
                .map_err(|p| {
                    anyhow::anyhow!(
                        "{name} refused: {} {:?} {:?}",
                        p.status,
                        p.code,
                        p.invalid_params
                    )
                })?;
            n += 1;
            replayed += usize::from(!r.first_time);
        }
        let placed = c.placed_at(cfg.today).map(|lrk| PlacedChild {
            child_id: registered.stream_id,
            given_name: c.given_name.clone(),
            family_name: c.family_name.clone(),
            birth_date: c.birth_date,
            lrk: lrk.to_owned(),
        });
        Ok::<_, anyhow::Error>((registered.stream_id, n, replayed, placed))
    }))
    .buffer_unordered(parallel.max(1))
    .collect::<Vec<_>>()
    .await;
    let due = futures::stream::iter(data.due_for_indication.iter().map(|c| async move {
        let r = register(
            client,
            cfg,
            &c.bsn,
            &c.given_name,
            &c.family_name,
            c.birth_date,
            &c.postcode,
            &c.district,
            c.registered_on,
            Uuid::from_u128(c.command_seed),
        )
        .await?;
        Ok::<_, anyhow::Error>((r.stream_id, 1, usize::from(!r.first_time), None))
    }))
    .buffer_unordered(parallel.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut report = DemoReport {
        children: data.children.len() + data.due_for_indication.len(),
        locations: data.locations.len(),
        ..Default::default()
    };
    for r in indicated.into_iter().chain(due) {
        let (child, n, replayed, placed) = r?;
        report.commands += n;
        report.replayed += replayed;
        report.child_ids.push(child);
        report.placed.extend(placed);
    }
    report.child_ids.sort();
    report.placed.sort_by_key(|p| p.child_id);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::child::Command;
    use crate::domain::{decide, Bsn, Catalogue, Child, Ctx};
    use kansrijk_runtime::crypto::SubjectKey;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn the_reference_data_is_read_with_its_quirks_reported() {
        let (schools, skipped) = schools();
        assert_eq!(schools.len(), 26);
        assert_eq!(skipped.len(), 1, "the #N/B row is reported");
        let ds = districts();
        assert_eq!(ds.len(), 8);
        assert!(ds
            .iter()
            .any(|d| d.district == "Leiden-Noord" && d.mean_score > 300.0));
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let a = generate(&DemoConfig::leiden(7, today()));
        let b = generate(&DemoConfig::leiden(7, today()));
        assert_eq!(a, b);
        assert_ne!(
            a.children[0],
            generate(&DemoConfig::leiden(8, today())).children[0]
        );
    }

    #[test]
    fn a_leiden_sized_data_set_with_a_quarter_not_reached() {
        let data = generate(&DemoConfig::leiden(2026, today()));
        // Three birth cohorts (5 years back to 2 years back) of 1,300 at about 17%.
        let n = data.children.len();
        assert!((500..=800).contains(&n), "{n} indicated children");
        for c in &data.children {
            assert!(Bsn::parse(&c.bsn).is_ok() && c.bsn.starts_with('9'));
            assert!(POSTCODES.iter().any(|(d, _)| *d == c.district));
        }
        // Among children whose window has closed, about a quarter was never placed.
        let closed: Vec<&DemoChild> = data
            .children
            .iter()
            .filter(|c| vve::window_end(c.birth_date) <= today())
            .collect();
        let never = closed
            .iter()
            .filter(|c| !c.steps.iter().any(|s| matches!(s, Step::Start { .. })))
            .count();
        let share = never as f64 / closed.len() as f64;
        assert!((0.18..=0.35).contains(&share), "not reached: {share}");
        assert!(data
            .children
            .iter()
            .any(|c| c.steps.iter().any(|s| matches!(s, Step::Declined { .. }))));
        assert!(data
            .children
            .iter()
            .any(|c| c.steps.iter().any(|s| matches!(
                s,
                Step::Outreach {
                    outcome: OutreachOutcome::NietBereikt,
                    ..
                }
            ))));
    }

    /// The demo world's configurations, for every test below.
    fn worlds(seed: u64, today: NaiveDate) -> Vec<DemoConfig> {
        vec![
            DemoConfig::leiden(seed, today),
            DemoConfig::leiden_second_jgz(seed, today),
            DemoConfig::leidschendam_voorburg(seed, today),
        ]
    }

    /// Anchor dates spread over a year: `kansrijk up` anchors the world on its first day.
    fn anchors() -> Vec<NaiveDate> {
        (0..6u32)
            .map(|i| {
                today().checked_add_months(Months::new(i * 2)).unwrap()
                    + Days::new(u64::from(i) * 5)
            })
            .collect()
    }

    #[test]
    fn every_district_has_a_location_and_children_are_due_for_an_indication() {
        for today in anchors() {
            for cfg in worlds(2026, today) {
                for d in &cfg.districts {
                    assert!(
                        cfg.locations.iter().any(|l| l.district == d.district),
                        "{}: no location in {}",
                        cfg.municipality,
                        d.district
                    );
                }
                let data = generate(&cfg);
                assert_eq!(
                    data.due_for_indication.len(),
                    cfg.due_for_indication as usize
                );
                for c in &data.due_for_indication {
                    let age = today.signed_duration_since(c.birth_date).num_days();
                    assert!((550..=800).contains(&age), "{age} days old");
                    assert!(POSTCODES.iter().any(|(d, _)| *d == c.district));
                }
            }
        }
    }

    /// What the JGZ worklist would show: the status of an indicated child on `today`, with the
    /// views' rules (services/views/src/vve/queries.rs).
    fn worklist_status(c: &DemoChild, today: NaiveDate) -> Option<&'static str> {
        if c.placed_at(today).is_some() || vve::window_end(c.birth_date) <= today {
            return None;
        }
        let mut referral: BTreeMap<Uuid, &'static str> = BTreeMap::new();
        let (mut declined, mut moved, mut reached, mut not_reached) = (false, false, 0, 0);
        for s in c.steps.iter().filter(|s| step_date(s) <= today) {
            match s {
                Step::Refer { referrals, .. } => {
                    for (id, _) in referrals {
                        referral.insert(*id, "doorverwezen");
                    }
                }
                Step::WaitingList { referral: r, .. } => {
                    referral.insert(*r, "wachtlijst");
                }
                Step::Accept { referral: r, .. } => {
                    referral.insert(*r, "geaccepteerd");
                }
                Step::Start {
                    referral: Some(r), ..
                } => {
                    referral.insert(*r, "geplaatst");
                }
                Step::Declined { .. } => declined = true,
                Step::MovedAway { .. } => moved = true,
                Step::Outreach { outcome, .. } => {
                    if *outcome == OutreachOutcome::NietBereikt {
                        not_reached += 1
                    } else {
                        reached += 1
                    }
                }
                _ => {}
            }
        }
        let has = |st: &str| referral.values().any(|v| *v == st);
        Some(if moved {
            return None;
        } else if declined {
            "ouders-zien-af"
        } else if has("wachtlijst") {
            "wachtlijst"
        } else if has("geaccepteerd") {
            "geaccepteerd"
        } else if !referral.is_empty() {
            "doorverwezen"
        } else if not_reached > 0 && reached == 0 {
            "onbereikbaar"
        } else if reached > 0 {
            "toeleiding-loopt"
        } else {
            "nog-niet-benaderd"
        })
    }

    #[test]
    fn the_jgz_worklist_has_children_in_every_status_on_any_anchor_date() {
        for today in anchors() {
            let data = generate(&DemoConfig::leiden(20260546, today));
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for c in &data.children {
                if let Some(st) = worklist_status(c, today) {
                    *seen.entry(st).or_default() += 1;
                }
            }
            for st in [
                "nog-niet-benaderd",
                "doorverwezen",
                "wachtlijst",
                "geaccepteerd",
                "ouders-zien-af",
                "onbereikbaar",
            ] {
                assert!(
                    seen.get(st).copied().unwrap_or(0) >= 1,
                    "{today}: no child {st}: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn de_boomhut_and_het_molentje_have_referrals_a_waiting_list_and_placements() {
        for today in anchors() {
            let data = generate(&DemoConfig::leiden(20260546, today));
            for lrk in ["100000001", "100000002"] {
                let (mut open, mut waiting, mut running, mut attendance) = (0, 0, 0, 0);
                for c in &data.children {
                    let st = worklist_status(c, today);
                    let here = |s: &Step| match s {
                        Step::Refer { referrals, .. } => referrals.iter().any(|(_, l)| l == lrk),
                        Step::WaitingList { lrk: l, .. } => l == lrk,
                        _ => false,
                    };
                    if c.steps.iter().filter(|s| step_date(s) <= today).any(here) {
                        match st {
                            Some("doorverwezen") => open += 1,
                            Some("wachtlijst") => waiting += 1,
                            _ => {}
                        }
                    }
                    if c.placed_at(today) == Some(lrk) {
                        running += 1;
                        attendance += usize::from(
                            c.steps
                                .iter()
                                .any(|s| matches!(s, Step::Attendance { lrk: l, .. } if l == lrk)),
                        );
                    }
                }
                assert!(open >= 1 && waiting >= 1 && running >= 3 && attendance >= 1,
                    "{today} {lrk}: {open} open, {waiting} waiting, {running} placed, {attendance} with attendance");
            }
        }
    }

    /// Every command the demo would send is accepted by the domain.
    #[test]
    fn the_domain_accepts_every_demo_command() {
        let mut older_definition = 0;
        for seed in [11, 2026, 42, 7] {
            for cfg in worlds(seed, today()) {
                older_definition += generate(&cfg)
                    .children
                    .iter()
                    .filter(|c| c.indicated_on.year() < 2024)
                    .count();
                accepted_by_the_domain(&cfg);
            }
        }
        assert!(
            older_definition > 0,
            "some indications fall under the older definition"
        );
    }

    fn accepted_by_the_domain(cfg: &DemoConfig) {
        let data = generate(cfg);
        let catalogue = Catalogue::builtin();
        let key = SubjectKey::from_bytes(Uuid::from_u128(1), 1, &[1; 32]).unwrap();
        for c in &data.children {
            let mut child = Child::default();
            let run = |child: &mut Child, org: &str, cmd: Command| {
                let ctx = Ctx {
                    today: today(),
                    birth_date: Some(c.birth_date),
                    catalogue: &catalogue,
                    organisation: org,
                    municipality: &cfg.municipality,
                };
                let events =
                    decide(child, cmd.clone(), &ctx).unwrap_or_else(|e| panic!("{cmd:?}: {e:?}"));
                for e in &events {
                    child.apply(e);
                }
            };
            let jgz = cfg.jgz_organisation.as_str();
            run(
                &mut child,
                jgz,
                Command::Register {
                    municipality: cfg.municipality.clone(),
                    district: c.district.clone(),
                    registered_on: c.registered_on,
                    personal: key
                        .seal(&kansrijk_proto::vve::ChildPersonal {
                            bsn: c.bsn.clone(),
                            given_name: c.given_name.clone(),
                            family_name: c.family_name.clone(),
                            postcode: c.postcode.clone(),
                            bsn_pseudonym: String::new(),
                        })
                        .unwrap(),
                    birth_date: key.seal(&c.birth_date).unwrap(),
                },
            );
            run(
                &mut child,
                jgz,
                Command::IssueIndication {
                    indication_id: Uuid::new_v4(),
                    issued_on: c.indicated_on,
                    sealed_criteria: key.seal(&c.criteria).unwrap(),
                    criteria: c.criteria.clone(),
                },
            );
            for s in &c.steps {
                let (org, cmd) = s.clone().into_command(jgz);
                run(&mut child, &org, cmd);
            }
        }
    }
}
