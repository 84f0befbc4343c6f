//! The NATS permissions of deploy/nats/accounts.conf (generated from the Helm values in
//! deploy/kubernetes/nats/values.yaml) against a real nats-server: the gateway sends commands and
//! a service answers them; a service that sends a command, publishes another service's events or
//! listens to another service's commands is refused; the JetStream flows of the runtime (the
//! events stream as code, the relay's publish, a projection's durable consumer) work with exactly
//! the rights each user has.

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

    // vve answers its own commands.
    let mut commands = vve
        .subscribe("kansrijk.cmd.vve.>")
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
        .subscribe("kansrijk.cmd.privacy.>")
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
