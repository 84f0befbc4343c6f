//! The disclosure-policy test machinery: checks a view's actual output against
//! `kansrijk_policy`'s disclosure table.
//!
//! A view plugs in with a sample of its JSON output (realistic: every optional field filled, at
//! least one element in every list) and the field -> category map of its response type:
//!
//! ```text
//! use kansrijk_privacy::disclosure::{assert_disclosure, FieldCategories};
//! let output = serde_json::to_value(&worklist_for_test_scenario).unwrap();
//! assert_disclosure("vve.werklijst", OrganisationType::Jgz, &output,
//!                   &FieldCategories::of::<WorklistResponse>());
//! ```
//!
//! The map comes from the response type's JSON Schema: annotate every field with
//! `#[schemars(extend("x-data-category" = "..."))]` as the events do. A category holds for the
//! field's whole subtree unless a nested field declares its own. Map keys that vary (a
//! `BTreeMap<String, _>`) appear as `*` in paths.
//!
//! It fails when: the view has no disclosure row for the organisation type; a field in the output
//! has no category; a field's category is not in `allowed_categories`; or the view is
//! `aggregate_only` and the output looks like rows about one person (a UUID value anywhere, a
//! key that names a person or a person id, or an identifying or contact field).

use std::collections::BTreeMap;

use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::category::{DataCategory, CATEGORY_KEY};
use schemars::JsonSchema;
use serde_json::Value;

/// Field path (dotted, `*` for map keys, nothing for array indices) -> category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldCategories(BTreeMap<String, DataCategory>);

impl FieldCategories {
    /// From the JSON Schema of a response type.
    pub fn of<T: JsonSchema>() -> Self {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        Self::from_schema(&schema)
    }

    /// From a JSON Schema (with `$defs` references).
    pub fn from_schema(schema: &Value) -> Self {
        let mut out = BTreeMap::new();
        walk(schema, schema, "", &mut out, 0);
        FieldCategories(out)
    }

    /// From explicit pairs, for outputs that are not typed.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, DataCategory)>) -> Self {
        FieldCategories(pairs.into_iter().map(|(p, c)| (p.to_owned(), c)).collect())
    }

    pub fn paths(&self) -> impl Iterator<Item = (&str, DataCategory)> {
        self.0.iter().map(|(p, c)| (p.as_str(), *c))
    }

    /// The category of a path: the longest declared prefix wins.
    pub fn category_of(&self, path: &str) -> Option<DataCategory> {
        let segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
        for n in (1..=segments.len()).rev() {
            let prefix = &segments[..n];
            let hit = self.0.iter().find(|(pattern, _)| {
                let p: Vec<&str> = pattern.split('.').collect();
                p.len() == n && p.iter().zip(prefix).all(|(a, b)| *a == "*" || a == b)
            });
            if let Some((_, c)) = hit {
                return Some(*c);
            }
        }
        None
    }
}

fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| {
                p.split('/')
                    .fold(root, |acc, seg| acc.get(seg).unwrap_or(&Value::Null))
            })
            .filter(|v| !v.is_null())
            .unwrap_or(v),
        None => v,
    }
}

fn walk(
    root: &Value,
    schema: &Value,
    prefix: &str,
    out: &mut BTreeMap<String, DataCategory>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let schema = resolve(root, schema);
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let path = join(name);
            if let Some(c) = prop
                .get(CATEGORY_KEY)
                .and_then(Value::as_str)
                .and_then(DataCategory::parse)
            {
                out.insert(path.clone(), c);
            }
            walk(root, prop, &path, out, depth + 1);
        }
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        walk(root, extra, &join("*"), out, depth + 1);
    }
    if let Some(items) = schema.get("items") {
        walk(root, items, prefix, out, depth + 1);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            for s in list {
                walk(root, s, prefix, out, depth + 1);
            }
        }
    }
}

/// One way an output breaks the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The disclosure table has no row for this view and organisation type.
    NotInPolicy,
    /// A field in the output has no declared category.
    Uncategorised { path: String },
    /// A field's category is not allowed for this organisation type.
    NotAllowed {
        path: String,
        category: DataCategory,
    },
    /// An aggregate-only view returned something about one person.
    PersonRow { path: String, why: &'static str },
}

/// Keys that name a person or a person's id: never in an aggregate.
pub const PERSON_KEYS: &[&str] = &[
    "subject",
    "subjectId",
    "betrokkene",
    "kindId",
    "child",
    "childId",
    "leerling",
    "leerlingId",
    "pupil",
    "gezinId",
    "familyId",
    "casusId",
    "caseId",
    "streamId",
    "bsn",
    "naam",
    "name",
    "voornaam",
    "achternaam",
    "geboortedatum",
    "birthDate",
    "adres",
    "address",
    "postcode",
    "telefoon",
    "email",
];

/// Checks one output of `view` shown to `organisation_type`.
pub fn check_disclosure(
    view: &str,
    organisation_type: OrganisationType,
    sample: &Value,
    fields: &FieldCategories,
) -> Vec<Violation> {
    let Some(row) = kansrijk_policy::disclosures()
        .find(|d| d.view == view && d.organisation_type == organisation_type)
    else {
        return vec![Violation::NotInPolicy];
    };
    let allowed = kansrijk_policy::allowed_categories(view, organisation_type);
    let mut violations = Vec::new();
    leaves(sample, "", &mut |path, key, value| {
        match fields.category_of(path) {
            None => violations.push(Violation::Uncategorised { path: path.into() }),
            Some(c) if !allowed.contains(&c) => violations.push(Violation::NotAllowed {
                path: path.into(),
                category: c,
            }),
            Some(c) => {
                if row.aggregate_only
                    && matches!(c, DataCategory::Identifying | DataCategory::Contact)
                {
                    violations.push(Violation::PersonRow {
                        path: path.into(),
                        why: "identifying or contact field",
                    });
                }
            }
        }
        if row.aggregate_only {
            if key.is_some_and(|k| PERSON_KEYS.contains(&k)) {
                violations.push(Violation::PersonRow {
                    path: path.into(),
                    why: "a key that names a person",
                });
            }
            if value
                .as_str()
                .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
            {
                violations.push(Violation::PersonRow {
                    path: path.into(),
                    why: "a UUID: a row about one subject",
                });
            }
        }
    });
    violations.dedup();
    violations
}

/// [`check_disclosure`] that panics with every violation.
pub fn assert_disclosure(
    view: &str,
    organisation_type: OrganisationType,
    sample: &Value,
    fields: &FieldCategories,
) {
    let v = check_disclosure(view, organisation_type, sample, fields);
    assert!(
        v.is_empty(),
        "view {view} for {}: disclosure violations {v:#?}",
        organisation_type.as_str()
    );
}

/// The rows of the disclosure table (view, organisation type) a test suite has not checked:
/// a views test ends with `assert!(untested_disclosures(&checked).is_empty())` to prove that every
/// view is checked for every organisation type it serves. `prefix` limits it to one domain
/// (e.g. `"vve."`).
pub fn untested_disclosures(
    prefix: &str,
    checked: &[(&str, OrganisationType)],
) -> Vec<(&'static str, OrganisationType)> {
    kansrijk_policy::disclosures()
        .filter(|d| d.view.starts_with(prefix))
        .filter(|d| {
            !checked
                .iter()
                .any(|(v, o)| *v == d.view && *o == d.organisation_type)
        })
        .map(|d| (d.view, d.organisation_type))
        .collect()
}

/// Calls `f(path, key, value)` for every scalar (and every empty object or list) of `v`.
fn leaves(v: &Value, path: &str, f: &mut dyn FnMut(&str, Option<&str>, &Value)) {
    fn go(v: &Value, path: &str, key: Option<&str>, f: &mut dyn FnMut(&str, Option<&str>, &Value)) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    go(child, &p, Some(k), f);
                }
            }
            Value::Array(items) => {
                for item in items {
                    go(item, path, key, f);
                }
            }
            scalar => {
                if !path.is_empty() {
                    f(path, key, scalar);
                }
            }
        }
    }
    go(v, path, None, f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    #[derive(Serialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        #[schemars(extend("x-data-category" = "administrative"))]
        subject: String,
        #[schemars(extend("x-data-category" = "identifying"))]
        name: String,
        #[schemars(extend("x-data-category" = "health"))]
        indication: Option<Indication>,
    }

    #[derive(Serialize, JsonSchema)]
    struct Indication {
        #[schemars(extend("x-data-category" = "administrative"))]
        since: String,
        criteria: Vec<String>,
    }

    #[derive(Serialize, JsonSchema)]
    struct Page {
        #[schemars(extend("x-data-category" = "administrative"))]
        total: u32,
        rows: Vec<Row>,
        #[schemars(extend("x-data-category" = "administrative"))]
        per_district: BTreeMap<String, u32>,
    }

    #[test]
    fn categories_come_from_the_schema_with_inheritance() {
        let f = FieldCategories::of::<Page>();
        assert_eq!(f.category_of("rows.name"), Some(DataCategory::Identifying));
        assert_eq!(
            f.category_of("rows.indication.since"),
            Some(DataCategory::Administrative)
        );
        assert_eq!(
            f.category_of("rows.indication.criteria"),
            Some(DataCategory::Health)
        );
        assert_eq!(
            f.category_of("per_district.Noord"),
            Some(DataCategory::Administrative)
        );
        assert_eq!(f.category_of("rows.unknown"), None);
    }

    #[test]
    fn the_access_log_view_shows_only_administrative_fields() {
        let fields = FieldCategories::from_pairs([
            ("entries", DataCategory::Administrative),
            ("nextAfterSeq", DataCategory::Administrative),
        ]);
        let ok = json!({"entries": [{"seq": 1, "user": "p"}], "nextAfterSeq": 1});
        assert_disclosure(
            "privacy.toegangslog",
            OrganisationType::Privacyfunctionaris,
            &ok,
            &fields,
        );
        // A field nobody declared fails closed.
        let extra = json!({"entries": [], "bsn": "111222333"});
        assert_eq!(
            check_disclosure(
                "privacy.toegangslog",
                OrganisationType::Privacyfunctionaris,
                &extra,
                &fields
            ),
            vec![Violation::Uncategorised { path: "bsn".into() }]
        );
        // Another organisation type has no row at all.
        assert_eq!(
            check_disclosure("privacy.toegangslog", OrganisationType::Jgz, &ok, &fields),
            vec![Violation::NotInPolicy]
        );
    }

    #[test]
    fn a_field_of_a_category_the_policy_does_not_allow_fails() {
        let sample = serde_json::to_value(Page {
            total: 1,
            rows: vec![Row {
                subject: "x".into(),
                name: "Test".into(),
                indication: Some(Indication {
                    since: "2026-01-01".into(),
                    criteria: vec!["taal".into()],
                }),
            }],
            per_district: BTreeMap::new(),
        })
        .unwrap();
        let v = check_disclosure(
            "privacy.toegangslog",
            OrganisationType::Privacyfunctionaris,
            &sample,
            &FieldCategories::of::<Page>(),
        );
        assert!(v.contains(&Violation::NotAllowed {
            path: "rows.name".into(),
            category: DataCategory::Identifying
        }));
        assert!(v.contains(&Violation::NotAllowed {
            path: "rows.indication.criteria".into(),
            category: DataCategory::Health
        }));
    }

    #[test]
    fn an_aggregate_view_must_not_return_rows_about_one_person() {
        let fields = FieldCategories::from_pairs([
            ("aantallen", DataCategory::Administrative),
            ("rijen", DataCategory::Administrative),
        ]);
        let aggregate = json!({"aantallen": {"gewist": 12, "actief": null}});
        assert_disclosure(
            "privacy.statistiek",
            OrganisationType::Gemeente,
            &aggregate,
            &fields,
        );
        let rows = json!({"rijen": [{"subject": "01920000-0000-7000-8000-000000000001"}]});
        let v = check_disclosure(
            "privacy.statistiek",
            OrganisationType::Gemeente,
            &rows,
            &fields,
        );
        assert!(v
            .iter()
            .any(|x| matches!(x, Violation::PersonRow { why, .. } if why.contains("UUID"))));
        assert!(v.iter().any(
            |x| matches!(x, Violation::PersonRow { why, .. } if why.contains("names a person"))
        ));
    }
}
