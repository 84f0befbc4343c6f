//! The authorisation matrix: every route of the route table, called as nobody, with a broken
//! token, as every persona (every organisation type, a second organisation of the same type for
//! JGZ, childcare and primary school, a second municipality) and as every organisation type with
//! every role the policy names (plus a role it does not name). The expected answer comes from the
//! policy tables: 401 without a valid token, 403 where `kansrijk_policy` refuses, success where it
//! allows. Routes and rules added later by the domains are covered without touching this test.
//!
//! Routes served by this process (the registry) run for real against PostgreSQL; every other
//! route gets a real NATS responder standing in for its service, which echoes the actor it
//! received, so the test also proves that each caller reaches the service as its own
//! organisation (the data-dependent scope the service enforces).

use std::collections::{BTreeSet, HashMap};

use kansrijk_gateway::auth::Claims;
use kansrijk_gateway::dev_oidc::{persona, PERSONAS};
use kansrijk_gateway::routes::{self, ParamType, Route};
use kansrijk_proto::actor::{Actor, OrganisationType};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{fake_service, Behaviour, Options, TestApp};

struct Caller {
    label: String,
    token: Option<String>,
    actor: Option<Actor>,
}

fn url_for(route: &Route) -> String {
    let mut path = route.path.to_owned();
    for name in route.path_param_names() {
        let p = route.path_param(name);
        let value = match (p.example, p.ty) {
            (Some(e), _) => e.to_owned(),
            (None, ParamType::Uuid) => Uuid::new_v4().to_string(),
            (None, ParamType::Integer) => "1".to_owned(),
            (None, ParamType::Boolean) => "true".to_owned(),
            (None, ParamType::Date) => "2026-01-01".to_owned(),
            (None, ParamType::String) => "x".to_owned(),
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

#[tokio::test]
async fn every_route_as_every_organisation_type_and_role() {
    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    kansrijk_gateway::registry::seed_demo(app.pool.as_ref().unwrap())
        .await
        .unwrap();
    let nats = app.nats.as_ref().unwrap();
    let served_here: BTreeSet<String> =
        kansrijk_gateway::registry::service::endpoints(app.pool.as_ref().unwrap().clone())
            .keys()
            .cloned()
            .collect();
    let all = routes::all();
    let mut faked = BTreeSet::new();
    for r in &all {
        let subject = r.target.subject();
        if !served_here.contains(&subject) && faked.insert(subject.clone()) {
            let behaviour = if r.method.is_command() {
                Behaviour::AcceptCommands
            } else {
                Behaviour::EchoQuery
            };
            fake_service(nats, subject, behaviour).await;
        }
    }

    let issuer = app.state.dev_issuer().unwrap().clone();
    let mut callers = vec![
        Caller {
            label: "zonder token".into(),
            token: None,
            actor: None,
        },
        Caller {
            label: "ongeldig token".into(),
            token: Some("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXVy".into()),
            actor: None,
        },
    ];
    let mut expired = issuer.claims(persona("beleidsadviseur").unwrap());
    expired.exp = 1;
    expired.nbf = Some(0);
    callers.push(Caller {
        label: "verlopen token".into(),
        token: Some(issuer.sign(&expired).unwrap()),
        actor: None,
    });
    for p in PERSONAS {
        let claims = issuer.claims(p);
        callers.push(Caller {
            label: format!("persona {}", p.id),
            token: Some(issuer.sign(&claims).unwrap()),
            actor: Some(kansrijk_gateway::auth::actor_from_claims(claims).unwrap()),
        });
    }
    let mut roles: Vec<&str> = kansrijk_policy::roles_named();
    roles.extend(PERSONAS.iter().map(|p| p.role));
    roles.push("onbekende-rol");
    roles.sort_unstable();
    roles.dedup();
    for t in OrganisationType::ALL {
        let base = PERSONAS.iter().find(|p| p.organisation_type == t).unwrap();
        for role in &roles {
            let claims = Claims {
                role: (*role).to_owned(),
                ..issuer.claims(base)
            };
            // A user token claiming a service identity (role `dienst`) is refused at the edge:
            // no actor, so every route answers 401.
            callers.push(Caller {
                label: format!("{} als {role}", t.as_str()),
                token: Some(issuer.sign(&claims).unwrap()),
                actor: kansrijk_gateway::auth::actor_from_claims(claims).ok(),
            });
        }
    }

    let mut mismatches = Vec::new();
    let mut counts: HashMap<u16, usize> = HashMap::new();
    for route in &all {
        for caller in &callers {
            let url = url_for(route);
            let resp = if route.method.is_command() {
                let body = route.example.map(|f| f()).unwrap_or_else(|| json!({}));
                let mut req = app
                    .http
                    .request(
                        reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap(),
                        app.url(&url),
                    )
                    .json(&body);
                if let Some(t) = &caller.token {
                    req = req.bearer_auth(t);
                }
                req.send().await.unwrap()
            } else {
                app.get(&url, caller.token.as_deref()).await
            };
            let status = resp.status().as_u16();
            *counts.entry(status).or_default() += 1;
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let expected = match &caller.actor {
                None => "401",
                Some(a) if kansrijk_policy::is_allowed(a, route.action) => "success",
                Some(_) => "403",
            };
            let ok = match expected {
                "401" => status == 401,
                "403" => status == 403,
                _ => {
                    let validated_only = route.method.is_command()
                        && route.example.is_none()
                        && route.body.is_some();
                    (200..300).contains(&status) || (validated_only && status == 400)
                }
            };
            if !ok {
                mismatches.push(format!(
                    "{} {} als {}: verwacht {expected}, kreeg {status} {}",
                    route.method.as_str(),
                    route.path,
                    caller.label,
                    body.get("detail").cloned().unwrap_or_default()
                ));
                continue;
            }
            // A faked service saw the caller as itself: its own organisation, type and role.
            if expected == "success" && faked.contains(&route.target.subject()) {
                let a = caller.actor.as_ref().unwrap();
                let seen = &body["actor"];
                if seen["organisation"] != json!(a.organisation)
                    || seen["organisationType"] != json!(a.organisation_type)
                    || seen["role"] != json!(a.role)
                {
                    mismatches.push(format!(
                        "{} {} als {}: de dienst zag een andere actor: {seen}",
                        route.method.as_str(),
                        route.path,
                        caller.label
                    ));
                }
            }
        }
    }
    // The public endpoints answer everyone, with or without a token.
    for path in ["/v1/openapi.json", "/livez"] {
        for caller in &callers {
            let status = app
                .get(path, caller.token.as_deref())
                .await
                .status()
                .as_u16();
            if status != 200 {
                mismatches.push(format!("GET {path} als {}: kreeg {status}", caller.label));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} afwijkingen van het beleid:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // The matrix is not vacuous.
    assert!(all.len() >= 5);
    for s in [401u16, 403, 200] {
        assert!(
            counts.get(&s).copied().unwrap_or(0) > 0,
            "no {s} in {counts:?}"
        );
    }
}
