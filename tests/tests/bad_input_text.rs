//! Bad input refused at the edge, on the real stack (issue 16, defects 2, 3 and 5):
//!
//! - control characters (NUL), bidi overrides and zero-width characters in a name or a district
//!   are a 400 with a field error each, all at once, from the gateway and from the service when
//!   a NATS caller goes around the gateway; nothing is stored (no event, no index row, no
//!   subject key, no retention period);
//! - an array longer than the contract's bound is a 400, from the gateway and from the service;
//! - every status a route answers (400, 401, 403, 404, 410, 413, 415) is in the OpenAPI document
//!   for that route, for one route of every service.

use std::collections::BTreeMap;
use std::time::Duration;

use kansrijk_e2e::Stack;
use kansrijk_proto::{Actor, OrganisationType, Problem, Purpose};
use serde_json::{json, Value};
use uuid::Uuid;

/// A fictional BSN starting with 9 that passes the 11-proef.
fn bsn(n: u32) -> String {
    let mut seq = 0u32;
    loop {
        let body = format!("9{:07}", n * 17 + seq);
        let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let sum: u32 = digits.iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum();
        if sum % 11 < 10 {
            return format!("{body}{}", sum % 11);
        }
        seq += 1;
    }
}

/// Rows in every table of the stores a registration writes to (vve's event store and child
/// index, privacy's keys, subjects and retention periods), and events in every event store.
async fn stored(stack: &Stack) -> BTreeMap<String, i64> {
    let pool = stack.pool("public").await;
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE (table_schema IN ('vve', 'privacy') AND table_type = 'BASE TABLE' \
                AND table_name NOT LIKE 'access_log%' AND table_name NOT LIKE 'projection%' \
                AND table_name NOT LIKE 'relay%' AND table_name NOT LIKE '_sqlx%') \
            OR table_name = 'events' ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    assert!(
        tables
            .iter()
            .any(|(s, t)| s == "privacy" && t == "subject_keys")
            && tables
                .iter()
                .any(|(s, t)| s == "privacy" && t == "retention_periods")
            && tables
                .iter()
                .any(|(s, t)| s == "vve" && t == "vve_child_index"),
        "{tables:?}"
    );
    let mut counts = BTreeMap::new();
    for (s, t) in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{s}\".\"{t}\""))
            .fetch_one(&pool)
            .await
            .expect("count");
        counts.insert(format!("{s}.{t}"), n);
    }
    counts
}

fn fields(p: &Value) -> Vec<String> {
    let mut v: Vec<String> = p["invalidParams"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{}:{}",
                f["name"].as_str().unwrap_or(""),
                f["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

fn jgz_actor() -> Actor {
    Actor {
        person: "bad-input-text-test".into(),
        organisation: "00000001821002193000".into(),
        organisation_type: OrganisationType::Jgz,
        role: "medewerker".into(),
        municipality: "0546".into(),
        purpose: Purpose::Zorgverlening,
    }
}

/// A command straight to the service over NATS, around the gateway.
async fn over_nats(stack: &Stack, name: &str, body: &Value) -> Result<Value, Problem> {
    kansrijk_runtime::nats::request::<_, Value>(
        &stack.nats_client,
        kansrijk_vve_reach::api::command_subject(name),
        kansrijk_runtime::nats::request_headers(&jgz_actor(), Some(Uuid::new_v4()), None),
        body,
        Duration::from_secs(15),
    )
    .await
}

async fn post(stack: &Stack, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(stack.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the gateway answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_bidi_and_zero_width_characters_are_refused_at_once_and_nothing_is_stored() {
    let stack = Stack::start().await;
    let token = stack.token("jgz-verpleegkundige").await;
    let registration = |n: u32, voornaam: &str, achternaam: &str, wijk: &str| {
        json!({
            "bsn": bsn(n),
            "voornaam": voornaam,
            "achternaam": achternaam,
            "geboortedatum": "2023-09-01",
            "postcode": "2311 AB",
            "wijk": wijk,
            "gemeente": "0546",
        })
    };
    // A clean registration first, so that "unchanged" means something.
    let (status, _) = post(
        &stack,
        &token,
        "/v1/kinderen",
        &registration(1, "Noor", "Jansen", "Binnenstad-Noord"),
    )
    .await;
    assert_eq!(status, 201);
    let before = stored(&stack).await;

    // NUL, a bidi override and a zero-width space, in the names and the district: one 400 with
    // a field error for each, from the gateway.
    let bad = registration(2, "No\u{0}or", "Jan\u{202e}sen", "Binnenstad\u{200b}-Noord");
    let (status, problem) = post(&stack, &token, "/v1/kinderen", &bad).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(
        fields(&problem),
        vec![
            "achternaam:ongeldige-tekens",
            "voornaam:ongeldige-tekens",
            "wijk:ongeldige-tekens"
        ],
        "{problem}"
    );
    // The NUL in the district alone (the 500 of the issue), an isolate and a line break in a name.
    for (voornaam, wijk) in [
        ("Noor", "Binnenstad-Noord\u{0}"),
        ("No\u{2066}or", "Binnenstad-Noord"),
        ("Noor\nJansen", "Binnenstad-Noord"),
        ("Noor\u{feff}", "Binnenstad-Noord"),
    ] {
        let (status, problem) = post(
            &stack,
            &token,
            "/v1/kinderen",
            &registration(3, voornaam, "Jansen", wijk),
        )
        .await;
        assert_eq!(status, 400, "{voornaam:?} {wijk:?}: {problem}");
        assert_eq!(problem["invalidParams"][0]["code"], "ongeldige-tekens");
    }

    // Around the gateway, straight to the service: refused the same.
    let p = over_nats(&stack, "kind-inschrijven", &bad)
        .await
        .expect_err("the service refuses it too");
    assert_eq!(p.status, 400, "{p:?}");
    let mut names: Vec<String> = p
        .invalid_params
        .iter()
        .map(|f| format!("{}:{}", f.name, f.code))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "achternaam:ongeldige-tekens",
            "voornaam:ongeldige-tekens",
            "wijk:ongeldige-tekens"
        ]
    );
    let p = over_nats(
        &stack,
        "kind-inschrijven",
        &registration(4, "Noor", "Jansen", "\u{0}"),
    )
    .await
    .expect_err("a NUL in the district is refused by the service");
    assert_eq!(p.status, 400, "{p:?}");

    // Nothing stored: no event, no index row, no key, no retention period.
    assert_eq!(stored(&stack).await, before);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_over_its_bound_is_refused_by_the_gateway_and_the_service() {
    let stack = Stack::start().await;
    let token = stack.token("jgz-verpleegkundige").await;
    let (status, made) = post(
        &stack,
        &token,
        "/v1/kinderen",
        &json!({
            "bsn": bsn(5),
            "voornaam": "Sam",
            "achternaam": "de Vries",
            "geboortedatum": "2023-09-01",
            "postcode": "2311 AB",
            "wijk": "Binnenstad-Noord",
            "gemeente": "0546",
        }),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let kind = made["streamId"].as_str().unwrap().to_owned();
    let max = kansrijk_vve_reach::api::MAX_LOCATIONS as usize;
    let before = stored(&stack).await;

    let locations: Vec<String> = (0..5000)
        .map(|i| format!("{:09}", 100_000_000 + i))
        .collect();
    let started = std::time::Instant::now();
    let body = json!({ "doorverwezenOp": "2026-02-03", "locaties": locations });
    let (status, problem) = post(
        &stack,
        &token,
        &format!("/v1/kinderen/{kind}/verwijzingen"),
        &body,
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(fields(&problem), vec!["locaties:te-veel"], "{problem}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // One over the bound, straight to the service.
    let mut body = json!({
        "kindId": kind,
        "doorverwezenOp": "2026-02-03",
        "locaties": vec!["100000001"; max + 1],
    });
    let p = over_nats(&stack, "doorverwijzen", &body)
        .await
        .expect_err("the service refuses it too");
    assert_eq!(p.status, 400);
    assert_eq!(p.invalid_params[0].name, "locaties");
    assert_eq!(p.invalid_params[0].code, "te-veel");
    assert_eq!(stored(&stack).await, before);

    // Within the bound, one registry lookup answers for every location, in order: only the
    // unregistered one is reported.
    body["locaties"] = json!(["100000001", "999999999", "100000002"]);
    let p = over_nats(&stack, "doorverwijzen", &body)
        .await
        .expect_err("an unregistered location");
    let got: Vec<String> = p
        .invalid_params
        .iter()
        .map(|f| format!("{}:{}", f.name, f.code))
        .collect();
    assert_eq!(got, vec!["locaties[1]:lrk-niet-geregistreerd"], "{p:?}");
    stack.shutdown().await;
}

/// A POST announcing a body over the gateway's limit (only its head is sent, so the answer
/// cannot race the upload): the status line's code.
async fn oversized_post(stack: &Stack, path: &str, token: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(stack.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
        stack.addr,
        kansrijk_gateway::app::BODY_LIMIT + 1
    );
    conn.write_all(head.as_bytes()).await.expect("send");
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(15), conn.read(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let line = String::from_utf8_lossy(&answer[..n]).to_string();
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {line:?}"))
}

/// The responses the document names for `method path`.
fn documented(doc: &Value, method: &str, path: &str) -> Vec<u16> {
    let rel = path.strip_prefix("/v1").unwrap();
    let op = &doc["paths"][rel][method.to_lowercase()];
    assert!(op.is_object(), "{method} {path} is not in the document");
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|k| k.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_a_route_answers_is_documented_for_that_route() {
    let stack = Stack::start().await;
    let doc: Value = reqwest::get(stack.url("/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let subject = Uuid::new_v4();
    // One route per service: (path as requested, template, allowed persona, refused persona).
    let cases = [
        (
            "/v1/kinderen".to_owned(),
            "/v1/kinderen",
            "jgz-verpleegkundige",
            "leerkracht",
        ),
        (
            "/v1/overdrachtsformulieren".to_owned(),
            "/v1/overdrachtsformulieren",
            "pedagogisch-medewerker",
            "jgz-verpleegkundige",
        ),
        (
            "/v1/casussen".to_owned(),
            "/v1/casussen",
            "regisseur",
            "leerkracht",
        ),
        (
            format!("/v1/betrokkenen/{subject}/wissingen"),
            "/v1/betrokkenen/{subject}/wissingen",
            "privacyfunctionaris",
            "jgz-verpleegkundige",
        ),
        (
            "/v1/registerimports".to_owned(),
            "/v1/registerimports",
            "functioneel-beheerder",
            "jgz-verpleegkundige",
        ),
    ];
    let http = reqwest::Client::new();
    let mut undocumented = Vec::new();
    for (path, template, allowed, refused) in cases {
        let route = kansrijk_gateway::routes::all()
            .into_iter()
            .find(|r| r.path == template && r.method.as_str() == "POST")
            .unwrap_or_else(|| panic!("{template} is a route"));
        let example = route.example.map(|f| f()).unwrap_or_else(|| json!({}));
        let documented = documented(&doc, "POST", template);
        let token = stack.token(allowed).await;
        let other = stack.token(refused).await;
        let mut bad = example.clone();
        if let Some(m) = bad.as_object_mut() {
            m.insert("onbekendVeld".into(), json!("x\u{0}"));
        }
        let requests: Vec<(u16, reqwest::RequestBuilder)> = vec![
            (401, http.post(stack.url(&path)).json(&example)),
            (
                403,
                http.post(stack.url(&path))
                    .bearer_auth(&other)
                    .json(&example),
            ),
            (
                415,
                http.post(stack.url(&path))
                    .bearer_auth(&token)
                    .header("content-type", "text/plain")
                    .body("tekst"),
            ),
            (
                400,
                http.post(stack.url(&path)).bearer_auth(&token).json(&bad),
            ),
        ];
        for (expected, req) in requests {
            let status = req.send().await.expect("answered").status().as_u16();
            assert_eq!(status, expected, "POST {path}");
            if !documented.contains(&status) {
                undocumented.push(format!("POST {template}: {status}"));
            }
        }
        let status = oversized_post(&stack, &path, &token).await;
        assert_eq!(status, 413, "POST {path}");
        if !documented.contains(&status) {
            undocumented.push(format!("POST {template}: {status}"));
        }
        // The route's own answer to its example (whatever it is: 201, 404, 409, 410...).
        let status = http
            .post(stack.url(&path))
            .bearer_auth(&token)
            .json(&example)
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16();
        if !documented.contains(&status) {
            undocumented.push(format!("POST {template} (example): {status}"));
        }
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:#?}");
    stack.shutdown().await;
}
