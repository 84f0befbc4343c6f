//! The NATS permissions of deploy/nats/accounts.conf (generated from the Helm values in
//! deploy/kubernetes/nats/values.yaml) against a real nats-server: the gateway sends commands and
//! a service answers them; a service that sends a command, publishes another service's events or
//! listens to another service's commands is refused; the JetStream flows of the runtime (the
//! events stream as code, the relay's publish, a projection's durable consumer) work with exactly
//! the rights each user has.
//!
//! Issue 17 item 3: each user reads replies only in its own inbox (`_INBOX_<user>.>`), and may
//! publish exactly what its code calls: `grants_are_exactly_what_the_code_needs` derives that from
//! the code (the gateway's route table and the web UI's calls, the registry's endpoints, each
//! service's declared `nats_requests()`) and compares it with deploy/nats/accounts.conf;
//! `no_user_reads_another_users_replies_or_calls_what_it_may_not` attacks a real nats-server; and
//! `the_whole_stack_works_with_the_deployments_accounts` runs every service as a process with
//! its own user, sends commands and queries through the gateway, compares every service's
//! endpoints (asked on `$SRV.INFO`) with its subscribe grants, and finds no permissions
//! violation in the server's log.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use kansrijk_runtime::testing::{free_port, nats_server_bin};

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile_dir::Dir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory removed on drop (std only).
mod tempfile_dir {
    #[derive(Debug)]
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const USERS: &[&str] = &[
    "sys",
    "gateway",
    "privacy",
    "vve",
    "overdracht",
    "casework",
    "views",
    "ops",
];

fn password(user: &str) -> String {
    format!("test-{user}")
}

fn start_server() -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("kansrijk-nats-perm-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("js")).expect("temp dir");
    std::fs::copy(
        root.join("deploy/nats/accounts.conf"),
        dir.join("accounts.conf"),
    )
    .expect("deploy/nats/accounts.conf exists");
    let port = free_port();
    std::fs::write(
        dir.join("server.conf"),
        format!(
            "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{}\" }}\ninclude ./accounts.conf\n",
            dir.join("js").display()
        ),
    )
    .expect("write config");
    let mut cmd = Command::new(nats_server_bin());
    cmd.arg("-c")
        .arg(dir.join("server.conf"))
        .arg("-l")
        .arg(dir.join("nats.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for user in USERS {
        cmd.env(
            format!("NATS_{}_PASSWORD", user.to_uppercase()),
            password(user),
        );
    }
    let child = cmd.spawn().expect("nats-server starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        port,
        _dir: tempfile_dir::Dir(dir),
    }
}

/// A client as `user`, and the permission violations the server reports to it.
async fn connect(server: &Server, user: &str) -> (async_nats::Client, Arc<Mutex<Vec<String>>>) {
    let violations = Arc::new(Mutex::new(Vec::new()));
    let seen = violations.clone();
    let client = async_nats::ConnectOptions::with_user_and_password(user.into(), password(user))
        .custom_inbox_prefix(format!("_INBOX_{user}"))
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    seen.lock().expect("lock").push(e.to_string());
                }
            }
        })
        .connect(format!("nats://127.0.0.1:{}", server.port))
        .await
        .unwrap_or_else(|e| panic!("{user} connects: {e}"));
    (client, violations)
}

/// A request, retried briefly while the server reports no responder yet (a subscription made on
/// another connection is not always registered by the time the request arrives).
async fn request(
    client: &async_nats::Client,
    subject: &'static str,
) -> Result<async_nats::Message, String> {
    let mut last = String::new();
    for _ in 0..20 {
        match tokio::time::timeout(Duration::from_secs(5), client.request(subject, "{}".into()))
            .await
        {
            Ok(Ok(m)) => return Ok(m),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "timed out".into(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}

async fn violation_reported(violations: &Arc<Mutex<Vec<String>>>, what: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if violations
            .lock()
            .expect("lock")
            .iter()
            .any(|v| v.to_lowercase().contains("permissions violation") && v.contains(what))
        {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn only_the_gateway_sends_commands_and_each_service_takes_only_its_own() {
    let server = start_server();
    let (gateway, _) = connect(&server, "gateway").await;
    let (vve, vve_violations) = connect(&server, "vve").await;
    let (views, views_violations) = connect(&server, "views").await;

    // vve answers its own commands (each by name: its grants list them exactly).
    let mut commands = vve
        .subscribe("kansrijk.cmd.vve.kind-inschrijven")
        .await
        .expect("subscribe");
    let responder = vve.clone();
    tokio::spawn(async move {
        while let Some(m) = commands.next().await {
            if let Some(reply) = m.reply {
                let _ = responder.publish(reply, "ok".into()).await;
            }
        }
    });
    vve.flush().await.expect("flush");
    let reply = request(&gateway, "kansrijk.cmd.vve.kind-inschrijven")
        .await
        .expect("the gateway's command is answered");
    assert_eq!(&reply.payload[..], b"ok");

    // A service may not send a command, not even to itself.
    vve.publish("kansrijk.cmd.vve.kind-inschrijven", "{}".into())
        .await
        .expect("queued");
    vve.flush().await.expect("flush");
    assert!(
        violation_reported(&vve_violations, "kansrijk.cmd.vve.kind-inschrijven").await,
        "sending a command as vve must be refused"
    );

    // The views may not listen to a service's commands.
    let _sub = views.subscribe("kansrijk.cmd.vve.>").await.expect("queued");
    views.flush().await.expect("flush");
    assert!(
        violation_reported(&views_violations, "kansrijk.cmd.vve.>").await,
        "subscribing to vve's commands as views must be refused"
    );
}

#[tokio::test]
async fn only_the_owner_publishes_its_events_and_the_runtime_flows_work() {
    let server = start_server();
    let (vve, _) = connect(&server, "vve").await;
    let (casework, casework_violations) = connect(&server, "casework").await;
    let (gateway, gateway_violations) = connect(&server, "gateway").await;
    let (views, _) = connect(&server, "views").await;

    // The events stream as code, with the service's own rights.
    let vve_js = jetstream::new(vve.clone());
    kansrijk_runtime::nats::ensure_events_stream(&vve_js, 1)
        .await
        .expect("vve may create the events stream");
    // Again, idempotently, as another service.
    kansrijk_runtime::nats::ensure_events_stream(&jetstream::new(casework.clone()), 1)
        .await
        .expect("casework may check the events stream");

    // The relay's publish: acknowledged for the owner.
    vve_js
        .publish("kansrijk.evt.vve.kind", "{}".into())
        .await
        .expect("publish")
        .await
        .expect("vve's own event is stored");

    // Another service's events: refused (no acknowledgement, a violation).
    let foreign = jetstream::new(casework.clone())
        .publish("kansrijk.evt.vve.kind", "{}".into())
        .await;
    if let Ok(ack) = foreign {
        assert!(
            tokio::time::timeout(Duration::from_secs(2), ack)
                .await
                .map(|r| r.is_err())
                .unwrap_or(true),
            "casework must not be able to store vve's events"
        );
    }
    assert!(violation_reported(&casework_violations, "kansrijk.evt.vve.kind").await);

    gateway
        .publish("kansrijk.evt.casework.casus", "{}".into())
        .await
        .expect("queued");
    gateway.flush().await.expect("flush");
    assert!(violation_reported(&gateway_violations, "kansrijk.evt.casework.casus").await);

    // A projection's durable pull consumer, as the views.
    let views_js = jetstream::new(views);
    let stream = views_js
        .get_stream(kansrijk_proto::subject::EVENTS_STREAM)
        .await
        .expect("views may read the stream's info");
    let consumer = stream
        .get_or_create_consumer(
            "test-projection",
            pull::Config {
                durable_name: Some("test-projection".into()),
                filter_subject: "kansrijk.evt.>".into(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .expect("views may create a durable consumer");
    let mut batch = consumer
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .expect("fetch");
    let mut got = 0;
    while let Some(m) = batch.next().await {
        let m = m.expect("message");
        m.ack().await.expect("ack");
        got += 1;
    }
    assert_eq!(got, 1, "exactly vve's one event is in the stream");
}

#[tokio::test]
async fn services_send_only_the_privacy_commands_granted_by_name() {
    let server = start_server();
    let (privacy, _) = connect(&server, "privacy").await;
    let (overdracht, overdracht_violations) = connect(&server, "overdracht").await;

    let mut commands = privacy
        .subscribe("kansrijk.cmd.privacy.betrokkene-wissen")
        .await
        .expect("subscribe");
    let responder = privacy.clone();
    tokio::spawn(async move {
        while let Some(m) = commands.next().await {
            if let Some(reply) = m.reply {
                let _ = responder.publish(reply, "ok".into()).await;
            }
        }
    });
    privacy.flush().await.expect("flush");

    // Handover shreds a refused file's key: granted.
    let reply = request(&overdracht, "kansrijk.cmd.privacy.betrokkene-wissen")
        .await
        .expect("handover's erasure request is answered");
    assert_eq!(&reply.payload[..], b"ok");

    // Lifting a legal hold is not handover's: refused.
    overdracht
        .publish("kansrijk.cmd.privacy.bewaarplicht-opheffen", "{}".into())
        .await
        .expect("queued");
    overdracht.flush().await.expect("flush");
    assert!(
        violation_reported(
            &overdracht_violations,
            "kansrijk.cmd.privacy.bewaarplicht-opheffen"
        )
        .await
    );
}

// -------------------------------------------------------------------------------------------------
// Issue 17 item 3: the grants, derived from the code.
// -------------------------------------------------------------------------------------------------

use std::collections::{BTreeMap, BTreeSet};

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One user's allow lists.
#[derive(Debug, Default)]
struct Grants {
    publish: BTreeSet<String>,
    subscribe: BTreeSet<String>,
}

/// Every user of deploy/nats/accounts.conf and its grants, as deploy/check/gen_nats_accounts.py
/// writes them from the Helm values (one `allow: [...]` line of JSON strings per direction).
fn accounts() -> BTreeMap<String, Grants> {
    let text = std::fs::read_to_string(root().join("deploy/nats/accounts.conf"))
        .expect("deploy/nats/accounts.conf");
    let mut out: BTreeMap<String, Grants> = BTreeMap::new();
    let (mut user, mut direction) = (String::new(), "");
    for line in text.lines().map(str::trim) {
        if let Some(u) = line.strip_prefix("user: ") {
            user = serde_json::from_str(u).expect("a user name");
            out.entry(user.clone()).or_default();
        } else if line.starts_with("publish:") {
            direction = "publish";
        } else if line.starts_with("subscribe:") {
            direction = "subscribe";
        } else if let Some(list) = line.strip_prefix("allow: ") {
            let list: Vec<String> = serde_json::from_str(list).expect("an allow list");
            let g = out.get_mut(&user).expect("allow of a user");
            match direction {
                "publish" => g.publish.extend(list),
                "subscribe" => g.subscribe.extend(list),
                other => panic!("allow outside publish/subscribe: {other}"),
            }
        } else {
            assert!(!line.starts_with("deny"), "deny lists are not expected");
        }
    }
    out
}

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literal at the start of `s` (after its opening quote).
fn literal(s: &str) -> Option<&str> {
    let end = s.find('"')?;
    let lit = &s[..end];
    lit.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        .then_some(lit)
        .filter(|l| !l.is_empty())
}

/// Every subject the web UI (services/web/src, served by the gateway process) sends requests to:
/// subject literals, `subject::query("..")`, `subject::command("..", "..")` and the JGZ pages'
/// `cmd("..")` (a VVE command). The JGZ pages' actions chosen at run time (`cmd(name)`) are
/// route-table commands and so in the gateway's grants anyway.
fn web_subjects() -> BTreeSet<String> {
    let mut files = Vec::new();
    rs_files(&root().join("services/web/src"), &mut files);
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for prefix in ["\"kansrijk.cmd.", "\"kansrijk.qry."] {
            for (i, _) in text.match_indices(prefix) {
                if let Some(l) = literal(&text[i + 1..]) {
                    out.insert(l.to_owned());
                }
            }
        }
        for (i, m) in text.match_indices("subject::query(\"") {
            if let Some(l) = literal(&text[i + m.len()..]) {
                out.insert(kansrijk_proto::subject::query(l));
            }
        }
        for (i, m) in text.match_indices("subject::command(\"") {
            let rest = &text[i + m.len()..];
            let service = literal(rest);
            let name = rest
                .split_once(", \"")
                .and_then(|(_, r)| literal(r))
                .filter(|_| rest.find(',') < rest.find(')'));
            if let (Some(s), Some(n)) = (service, name) {
                out.insert(kansrijk_proto::subject::command(s, n));
            }
        }
        for (i, m) in text.match_indices("&cmd(\"") {
            if let Some(l) = literal(&text[i + m.len()..]) {
                out.insert(kansrijk_proto::subject::command("vve", l));
            }
        }
    }
    out
}

/// What every service user needs of the JetStream API (the events stream as code, the relay's
/// publish, its own durable consumers), besides its own events.
const JETSTREAM: &[&str] = &[
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.KANSRIJK_EVENTS",
    "$JS.API.STREAM.CREATE.KANSRIJK_EVENTS",
    "$JS.API.STREAM.UPDATE.KANSRIJK_EVENTS",
    "$JS.API.CONSUMER.CREATE.KANSRIJK_EVENTS.>",
    "$JS.API.CONSUMER.DURABLE.CREATE.KANSRIJK_EVENTS.>",
    "$JS.API.CONSUMER.INFO.KANSRIJK_EVENTS.>",
    "$JS.API.CONSUMER.MSG.NEXT.KANSRIJK_EVENTS.>",
    "$JS.ACK.KANSRIJK_EVENTS.>",
];

/// The NATS service API discovery subjects a service `name` answers (`$SRV.PING`,
/// `$SRV.INFO.<name>`, `$SRV.STATS.<name>.<id>`...).
fn service_api(name: &str) -> [String; 3] {
    [
        "$SRV.*".to_owned(),
        format!("$SRV.*.{name}"),
        format!("$SRV.*.{name}.*"),
    ]
}

/// Each user's NATS service name (the endpoints it serves), `None` for users serving none.
const SERVICE_OF_USER: &[(&str, Option<&str>)] = &[
    ("gateway", Some("registry")),
    ("privacy", Some("privacy")),
    ("vve", Some("vve")),
    ("overdracht", Some("overdracht")),
    ("casework", Some("casework")),
    ("views", Some("views")),
    ("ops", None),
];

fn set<I: IntoIterator<Item = S>, S: Into<String>>(i: I) -> BTreeSet<String> {
    i.into_iter().map(Into::into).collect()
}

fn differences(
    user: &str,
    what: &str,
    granted: &BTreeSet<String>,
    needed: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for s in needed.difference(granted) {
        out.push(format!("{user} needs to {what} {s} but may not"));
    }
    for s in granted.difference(needed) {
        out.push(format!(
            "{user} may {what} {s} but its code does not need it"
        ));
    }
    out
}

/// The publish grants are exactly what the code calls, and every user's only inbox is its own.
/// (The subscribe grants of the services are compared with their served endpoints in
/// `the_whole_stack_works_with_the_deployments_accounts`.)
#[tokio::test]
async fn grants_are_exactly_what_the_code_needs() {
    let accounts = accounts();
    let mut problems = Vec::new();

    // The gateway: its route table, the web UI's calls, the views' read-your-writes wait.
    let mut gateway_publish: BTreeSet<String> = kansrijk_gateway::routes::all()
        .iter()
        .map(|r| r.target.subject())
        .collect();
    gateway_publish.extend(web_subjects());
    gateway_publish.insert(kansrijk_gateway::forward::views_wait_subject());
    problems.extend(differences(
        "gateway",
        "publish",
        &accounts["gateway"].publish,
        &gateway_publish,
    ));
    // It serves the registry's endpoints.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/unused")
        .expect("a lazy pool");
    let mut gateway_subscribe: BTreeSet<String> =
        kansrijk_gateway::registry::service::endpoints(pool)
            .into_keys()
            .collect();
    gateway_subscribe.extend(service_api(kansrijk_gateway::registry::service::SERVICE));
    gateway_subscribe.insert("_INBOX_gateway.>".into());
    problems.extend(differences(
        "gateway",
        "subscribe to",
        &accounts["gateway"].subscribe,
        &gateway_subscribe,
    ));

    // The services: their own events, the JetStream API, what they declare they call.
    let services: [(&str, Option<&str>, Vec<String>); 5] = [
        (
            "privacy",
            Some("privacy"),
            kansrijk_privacy::nats_requests(),
        ),
        ("vve", Some("vve"), kansrijk_vve_reach::nats_requests()),
        (
            "overdracht",
            Some("overdracht"),
            kansrijk_handover::nats_requests(),
        ),
        (
            "casework",
            Some("casework"),
            kansrijk_casework::nats_requests(),
        ),
        ("views", None, kansrijk_views::nats_requests()),
    ];
    for (user, events, requests) in services {
        let mut needed = set(JETSTREAM.iter().copied());
        if let Some(owner) = events {
            needed.insert(kansrijk_proto::subject::events_of(owner));
        } else {
            // `kansrijk rebuild`, run with the views' user, drops a projection's consumer.
            needed.insert("$JS.API.CONSUMER.DELETE.KANSRIJK_EVENTS.>".into());
        }
        needed.extend(requests);
        problems.extend(differences(
            user,
            "publish",
            &accounts[user].publish,
            &needed,
        ));
    }

    // Every user reads replies in its own inbox only.
    for (user, g) in &accounts {
        if user == "sys" {
            continue;
        }
        let inboxes: Vec<&String> = g
            .subscribe
            .iter()
            .filter(|s| s.starts_with("_INBOX"))
            .collect();
        if inboxes != [&format!("_INBOX_{user}.>")] {
            problems.push(format!(
                "{user}'s inboxes are {inboxes:?}, not only _INBOX_{user}.>"
            ));
        }
        if g.subscribe
            .iter()
            .any(|s| s == ">" || s.starts_with("*") || s.starts_with("_INBOX."))
        {
            problems.push(format!("{user} may subscribe to every inbox"));
        }
    }
    for (user, _) in SERVICE_OF_USER {
        assert!(accounts.contains_key(*user), "no NATS user {user}");
    }
    assert!(
        problems.is_empty(),
        "deploy/kubernetes/nats/values.yaml:\n{}",
        problems.join("\n")
    );
}

/// The attacks of item 3 on a real nats-server with the deployment's accounts: reading every
/// reply (`_INBOX.>`), reading another user's replies, the gateway calling a service's
/// subject-access endpoint; and a reply still reaches the user who asked, in its own inbox.
#[tokio::test]
async fn no_user_reads_another_users_replies_or_calls_what_it_may_not() {
    let server = start_server();
    let (gateway, gateway_violations) = connect(&server, "gateway").await;
    let (privacy, _) = connect(&server, "privacy").await;
    let (vve, vve_violations) = connect(&server, "vve").await;

    // vve answers its part of subject access, asked by privacy: the reply comes back to
    // privacy's own inbox.
    let mut inzage = vve
        .subscribe("kansrijk.qry.vve.inzage")
        .await
        .expect("subscribe");
    let responder = vve.clone();
    tokio::spawn(async move {
        while let Some(m) = inzage.next().await {
            if let Some(reply) = m.reply {
                assert!(reply.starts_with("_INBOX_privacy."), "reply to {reply}");
                let _ = responder.publish(reply, "deel".into()).await;
            }
        }
    });
    vve.flush().await.expect("flush");

    // The gateway tries to read every reply, and privacy's in particular.
    let mut everything = gateway.subscribe("_INBOX.>").await.expect("queued");
    let mut privacys = gateway.subscribe("_INBOX_privacy.>").await.expect("queued");
    let mut all = gateway.subscribe(">").await.expect("queued");
    gateway.flush().await.expect("flush");
    for refused in ["_INBOX.>", "_INBOX_privacy.>", ">"] {
        assert!(
            violation_reported(
                &gateway_violations,
                &format!("Subscription to \"{refused}\"")
            )
            .await,
            "the gateway must not subscribe to {refused}"
        );
    }
    // vve too: the service answering the request cannot listen to its replies.
    let _vve_reads = vve.subscribe("_INBOX_privacy.>").await.expect("queued");
    vve.flush().await.expect("flush");
    assert!(violation_reported(&vve_violations, "_INBOX_privacy.>").await);

    let reply = request(&privacy, "kansrijk.qry.vve.inzage")
        .await
        .expect("privacy's subject access request is answered");
    assert_eq!(&reply.payload[..], b"deel");
    // Nothing reached the gateway's refused subscriptions.
    for sub in [&mut everything, &mut privacys, &mut all] {
        let got = tokio::time::timeout(Duration::from_millis(300), sub.next()).await;
        assert!(
            !matches!(got, Ok(Some(_))),
            "the gateway read a reply not meant for it"
        );
    }

    // The gateway may not call a service's subject-access endpoint directly...
    gateway
        .publish("kansrijk.qry.vve.inzage", "{}".into())
        .await
        .expect("queued");
    gateway.flush().await.expect("flush");
    assert!(
        violation_reported(&gateway_violations, "kansrijk.qry.vve.inzage").await,
        "the gateway must not ask vve's subject-access endpoint"
    );
    // ...nor the privacy service's internal API (keys), nor publish any event.
    for subject in [
        kansrijk_proto::subject::privacy::KEYS_GET,
        "kansrijk.qry.overdracht.inzage",
    ] {
        gateway.publish(subject, "{}".into()).await.expect("queued");
        gateway.flush().await.expect("flush");
        assert!(
            violation_reported(&gateway_violations, subject).await,
            "the gateway must not publish to {subject}"
        );
    }

    // A client with the default inbox prefix gets no answer at all: it may not subscribe there.
    let default_inbox =
        async_nats::ConnectOptions::with_user_and_password("vve".into(), password("vve"))
            .connect(format!("nats://127.0.0.1:{}", server.port))
            .await
            .expect("vve connects");
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        default_inbox.request("kansrijk.privacy.keys.get", "{}".into()),
    )
    .await;
    assert!(!matches!(r, Ok(Ok(_))), "a reply on _INBOX reached vve");
}

/// A `kansrijk serve` process.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every service as its own process with its own NATS user of the deployment's accounts, a
/// command and queries through the gateway (keys, access log, registry, views, subject access),
/// every service's endpoints (asked on `$SRV.INFO`, as `ops`) exactly its subscribe grants, and
/// no permissions violation in the server's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_stack_works_with_the_deployments_accounts() {
    let server = start_server();
    let db = kansrijk_runtime::testing::TestDb::new().await;
    let database_url = db.url.clone();
    let out = Command::new(env!("CARGO_BIN_EXE_kansrijk"))
        .arg("migrate")
        .env("DATABASE_URL", &database_url)
        .output()
        .expect("kansrijk migrate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let registry = kansrijk_gateway::registry::connect(&database_url, 2)
        .await
        .expect("registry schema");
    kansrijk_gateway::seed_demo(&registry)
        .await
        .expect("demo organisations");
    registry.close().await;

    let master = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(1);
    let pseudonym = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(0)
        .split_once(':')
        .map(|(_, k)| k.to_owned())
        .expect("key spec");
    let logs = server._dir.0.clone();
    let gateway_port = free_port();
    let mut procs = Vec::new();
    let mut ready = Vec::new();
    for (service, user) in [
        ("privacy", "privacy"),
        ("vve-reach", "vve"),
        ("handover", "overdracht"),
        ("casework", "casework"),
        ("views", "views"),
        ("gateway", "gateway"),
    ] {
        let port = if service == "gateway" {
            gateway_port
        } else {
            free_port()
        };
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(logs.join(format!("{service}.log"))).expect("log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kansrijk"));
        cmd.args(["serve", service])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &database_url)
            .env(
                "NATS_URL",
                format!("nats://{user}:{}@127.0.0.1:{}", password(user), server.port),
            )
            .env("KANSRIJK_DEV_ISSUER", "1")
            .env("KANSRIJK_MASTER_KEYS", &master)
            .env("KANSRIJK_PSEUDONYM_KEY", &pseudonym)
            .env("RUST_LOG", "warn")
            .env(
                if service == "gateway" {
                    "KANSRIJK_HTTP_ADDR"
                } else {
                    "KANSRIJK_OPS_ADDR"
                },
                &addr,
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        procs.push(Proc(cmd.spawn().expect("kansrijk serve starts")));
        ready.push((service, format!("http://{addr}/readyz")));
    }
    let all_logs = || {
        let mut out = String::new();
        for name in [
            "nats",
            "privacy",
            "vve-reach",
            "handover",
            "casework",
            "views",
            "gateway",
        ] {
            let text =
                std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            out.push_str(&format!("--- {name} ---\n"));
            for l in tail.into_iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    };
    let http = reqwest::Client::new();
    let started = Instant::now();
    for (service, url) in &ready {
        while !http
            .get(url)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
        {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{service} not ready\n{}",
                all_logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // A command through the gateway: vve-reach asks privacy for a key and a pseudonym, the
    // registry for the district, registers the retention; the views project it.
    let base = format!("http://127.0.0.1:{gateway_port}");
    let jgz = kansrijk_gateway::client::Client::dev_login(&base, "jgz-verpleegkundige")
        .await
        .expect("dev login");
    let r = jgz
        .post(
            "/v1/kinderen",
            &serde_json::json!({
                "bsn": "999990019",
                "voornaam": "Rechten",
                "achternaam": "Test",
                "geboortedatum": "2023-03-01",
                "postcode": "2311 AB",
                "wijk": "Binnenstad-Zuid",
                "gemeente": "0546",
            }),
            Some(uuid::Uuid::new_v4()),
        )
        .await
        .unwrap_or_else(|e| panic!("the command is accepted: {e:?}\n{}", all_logs()));
    assert!(
        (200..300).contains(&r.status),
        "status {}\n{}",
        r.status,
        all_logs()
    );
    let child = r.accepted.stream_id;
    // A query the views answer with opened personal data (keys, access log).
    let worklist: serde_json::Value = jgz
        .get("/v1/jgz-werklijst")
        .await
        .unwrap_or_else(|e| panic!("the worklist is answered: {e:?}\n{}", all_logs()));
    assert!(
        worklist.to_string().contains(&child.to_string()),
        "the child is on the worklist: {worklist}"
    );
    // Subject access: privacy asks every service for its part.
    let officer = kansrijk_gateway::client::Client::dev_login(&base, "privacyfunctionaris")
        .await
        .expect("dev login");
    let _: serde_json::Value = officer
        .get(&format!("/v1/betrokkenen/{child}/inzage"))
        .await
        .unwrap_or_else(|e| panic!("subject access is answered: {e:?}\n{}", all_logs()));

    // Every service's endpoints are exactly its subscribe grants.
    let accounts = accounts();
    let (ops, _) = connect(&server, "ops").await;
    let mut problems = Vec::new();
    for (user, service) in SERVICE_OF_USER {
        let Some(service) = service else { continue };
        let info = tokio::time::timeout(
            Duration::from_secs(5),
            ops.request(format!("$SRV.INFO.{service}"), "".into()),
        )
        .await
        .unwrap_or_else(|_| panic!("{service} answers $SRV.INFO in time"))
        .unwrap_or_else(|e| panic!("{service} answers $SRV.INFO: {e}"));
        let info: serde_json::Value = serde_json::from_slice(&info.payload).expect("info");
        let mut needed: BTreeSet<String> = info["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| e["subject"].as_str().expect("subject").to_owned())
            .collect();
        needed.extend(service_api(service));
        needed.insert(format!("_INBOX_{user}.>"));
        problems.extend(differences(
            user,
            "subscribe to",
            &accounts[*user].subscribe,
            &needed,
        ));
    }
    let ops_subscribe = set(["_INBOX_ops.>"]);
    problems.extend(differences(
        "ops",
        "subscribe to",
        &accounts["ops"].subscribe,
        &ops_subscribe,
    ));

    // Nothing any service did was refused.
    let nats_log = std::fs::read_to_string(logs.join("nats.log")).unwrap_or_default();
    let violations: Vec<&str> = nats_log
        .lines()
        .filter(|l| l.contains("Permissions Violation"))
        .collect();
    drop(procs);
    assert!(
        violations.is_empty(),
        "permissions violations:\n{}",
        violations.join("\n")
    );
    assert!(
        problems.is_empty(),
        "deploy/kubernetes/nats/values.yaml:\n{}",
        problems.join("\n")
    );
}
