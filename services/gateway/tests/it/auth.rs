//! Bearer JWTs validated against the development issuer's JWKS, served over real HTTP.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kansrijk_gateway::auth::Claims;
use kansrijk_gateway::dev_oidc::{self, persona, pkce_challenge};
use serde_json::Value;

use crate::common::{Options, TestApp};

// Allowed for every organisation type; without NATS an authorised request ends in a 503, an
// unauthenticated one in a 401.
const PATH: &str = "/v1/gemeenten/0546/wijken";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.get(PATH, Some(token)).await.status().as_u16()
}

fn claims(app: &TestApp) -> Claims {
    let issuer = app.state.dev_issuer().unwrap();
    issuer.claims(persona("jgz-verpleegkundige").unwrap())
}

#[tokio::test]
async fn a_valid_token_is_accepted_and_every_broken_one_refused() {
    let app = TestApp::start(Options::default()).await;
    let issuer = app.state.dev_issuer().unwrap().clone();
    assert_eq!(
        status(&app, &issuer.sign(&claims(&app)).unwrap()).await,
        503
    );

    let refused: Vec<(&str, Claims)> = vec![
        (
            "expired",
            Claims {
                exp: now() - 600,
                ..claims(&app)
            },
        ),
        (
            "not yet valid",
            Claims {
                nbf: Some(now() + 600),
                ..claims(&app)
            },
        ),
        (
            "other audience",
            Claims {
                aud: "iemand-anders".into(),
                ..claims(&app)
            },
        ),
        (
            "other issuer",
            Claims {
                iss: "https://nep.example".into(),
                ..claims(&app)
            },
        ),
        (
            "unknown organisation type",
            Claims {
                organisation_type: "bakker".into(),
                ..claims(&app)
            },
        ),
        (
            "BSN as subject",
            Claims {
                sub: "123456782".into(),
                ..claims(&app)
            },
        ),
    ];
    for (what, c) in refused {
        assert_eq!(status(&app, &issuer.sign(&c).unwrap()).await, 401, "{what}");
    }

    // A tampered payload breaks the signature.
    let good = issuer.sign(&claims(&app)).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["organisation_type"] = "gemeente".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert_eq!(status(&app, &forged).await, 401, "tampered");

    // `alg: none` and a symmetric algorithm are refused.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"kansrijk-dev-1"}"#),
        parts[1]
    );
    assert_eq!(status(&app, &none).await, 401, "alg none");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(dev_oidc::KEY_ID_1.into());
    let hs = jsonwebtoken::encode(
        &header,
        &claims(&app),
        &jsonwebtoken::EncodingKey::from_secret(b"geheim"),
    )
    .unwrap();
    assert_eq!(status(&app, &hs).await, 401, "HS256");
}

#[tokio::test]
async fn key_rotation_needs_no_restart() {
    let app = TestApp::start(Options::default()).await;
    let issuer = app.state.dev_issuer().unwrap().clone();
    let old = issuer.sign(&claims(&app)).unwrap();
    assert_eq!(
        status(&app, &old).await,
        503,
        "first key works (JWKS fetched)"
    );

    // A key the issuer has not published: refetching the JWKS does not help.
    let unknown = issuer.sign_with_unpublished_key(&claims(&app)).unwrap();
    assert_eq!(status(&app, &unknown).await, 401);

    // The issuer rotates: the unknown key id makes the gateway fetch the JWKS again.
    issuer.rotate().unwrap();
    let new = issuer.sign(&claims(&app)).unwrap();
    let header = jsonwebtoken::decode_header(&new).unwrap();
    assert_eq!(header.kid.as_deref(), Some(dev_oidc::KEY_ID_2));
    assert_eq!(status(&app, &new).await, 503, "rotated key accepted");
    assert_eq!(status(&app, &unknown).await, 503, "now published");
    assert_eq!(status(&app, &old).await, 503, "old key still published");
}

#[tokio::test]
async fn discovery_and_jwks_are_served() {
    let app = TestApp::start(Options::default()).await;
    let d: Value = app
        .get("/dev-oidc/.well-known/openid-configuration", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], app.url("/dev-oidc"));
    assert_eq!(d["jwks_uri"], app.url("/dev-oidc/jwks"));
    assert_eq!(d["code_challenge_methods_supported"][0], "S256");
    let jwks: Value = app.get("/dev-oidc/jwks", None).await.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], dev_oidc::KEY_ID_1);
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0].get("d").is_none(), "no private parts");
}

#[tokio::test]
async fn dev_token_of_the_library_is_accepted_by_a_running_gateway() {
    let app = TestApp::start(Options::default()).await;
    let token = kansrijk_gateway::dev_token("regisseur", &app.url("/dev-oidc")).unwrap();
    assert_eq!(status(&app, &token).await, 503);
}

#[tokio::test]
async fn authorization_code_flow_with_pkce_and_the_persona_chooser() {
    let app = TestApp::start(Options::default()).await;
    let verifier = "Zq2vN8bWc4kP0yTgR7eLxA1sD5fH9jM3uQ6oI2wE8rTyU4iO";
    let challenge = pkce_challenge(verifier);
    let redirect = "http://127.0.0.1:9999/auth/terug";
    let authorize = format!(
        "/dev-oidc/authorize?response_type=code&client_id=kansrijk-web&redirect_uri={}&state=xyz&code_challenge={challenge}&code_challenge_method=S256&scope=openid&nonce=n1",
        "http%3A%2F%2F127.0.0.1%3A9999%2Fauth%2Fterug"
    );
    let page = app.get(&authorize, None).await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Ontwikkelomgeving"));
    assert!(
        html.contains("jgz-verpleegkundige")
            && html.contains("beleidsadviseur-leidschendam-voorburg")
    );

    // Without PKCE the issuer refuses.
    let no_pkce = authorize.replace("&code_challenge_method=S256", "");
    assert_eq!(app.get(&no_pkce, None).await.status(), 400);
    // And it is no open redirector.
    let elsewhere = authorize.replace(
        "http%3A%2F%2F127.0.0.1%3A9999",
        "https%3A%2F%2Fevil.example",
    );
    assert_eq!(app.get(&elsewhere, None).await.status(), 400);

    let form = [
        ("response_type", "code"),
        ("client_id", "kansrijk-web"),
        ("redirect_uri", redirect),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("nonce", "n1"),
        ("persona", "pedagogisch-medewerker"),
    ];
    let r = app
        .http
        .post(app.url("/dev-oidc/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(redirect) && location.ends_with("&state=xyz"),
        "{location}"
    );
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    let exchange = |verifier: &'static str, code: String| {
        let http = app.http.clone();
        let url = app.url("/dev-oidc/token");
        async move {
            http.post(url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("code_verifier", verifier),
                    ("redirect_uri", redirect),
                    ("client_id", "kansrijk-web"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = exchange(
        "a-wrong-verifier-that-is-long-enough-to-be-checked-0000",
        code.clone(),
    )
    .await;
    assert_eq!(wrong.status(), 400);
    // The code is spent after a failed try as well.
    let spent = exchange(verifier, code).await;
    assert_eq!(spent.status(), 400);

    // Again, properly.
    let r = app
        .http
        .post(app.url("/dev-oidc/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let tokens: Value = exchange(verifier, code).await.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        status(&app, access).await,
        503,
        "the access token is accepted"
    );
    let id: Claims = jsonwebtoken::dangerous::insecure_decode(tokens["id_token"].as_str().unwrap())
        .map(|d| d.claims)
        .unwrap_or_else(|_| panic!("id token"));
    assert_eq!(id.organisation, "100000001");

    // The persona grant for scripts.
    let t: Value = app
        .http
        .post(app.url("/dev-oidc/token"))
        .form(&[
            ("grant_type", dev_oidc::PERSONA_GRANT),
            ("persona", "mentor-vo"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status(&app, t["access_token"].as_str().unwrap()).await, 503);
}

#[tokio::test]
async fn behind_another_public_url_the_dev_issuer_keys_come_from_the_listening_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let common = kansrijk_runtime::config::CommonConfig {
        database_url: String::new(),
        nats_url: String::new(),
        stream_replicas: 1,
        oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
        ops_addr: None,
    };
    let mut config = kansrijk_gateway::Config::local(common, addr);
    // A name this machine cannot resolve: only the listening address works.
    config.public_url = "http://kansrijk-gateway.invalid:8080".into();
    let state = kansrijk_gateway::AppState::new(config, None, None).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(kansrijk_gateway::serve(
        listener,
        kansrijk_gateway::build_router(state),
        shutdown.clone(),
    ));
    let token = kansrijk_gateway::dev_token(
        "leerkracht",
        "http://kansrijk-gateway.invalid:8080/dev-oidc",
    )
    .unwrap();
    let r = reqwest::Client::new()
        .get(format!("http://{addr}{PATH}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "authenticated; no NATS in this test");
    shutdown.cancel();
}

#[tokio::test]
async fn logout_sends_back_to_an_own_or_local_address_only() {
    let app = TestApp::start(Options::default()).await;
    let d: Value = app
        .get("/dev-oidc/.well-known/openid-configuration", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["end_session_endpoint"], app.url("/dev-oidc/logout"));
    let back = app.url("/uitgelogd");
    let r = app
        .http
        .get(app.url("/dev-oidc/logout"))
        .query(&[("post_logout_redirect_uri", back.as_str()), ("state", "s1")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{back}?state=s1")
    );
    let r = app
        .http
        .get(app.url("/dev-oidc/logout"))
        .query(&[("post_logout_redirect_uri", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app.get("/dev-oidc/logout", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("uitgelogd"));
}

/// Issue 17 item 6: a token that claims a service identity (role `dienst`, subject `dienst:*`,
/// municipality `0000`), signed by the issuer the gateway trusts, is refused at the edge with a
/// 401; nothing reaches NATS, so the privacy service never sees the caller as a key client.
#[tokio::test]
async fn a_user_token_carrying_a_service_identity_is_refused_at_the_edge() {
    use futures::StreamExt;
    let app = TestApp::start(Options {
        nats: true,
        ..Options::default()
    })
    .await;
    let issuer = app.state.dev_issuer().unwrap().clone();
    let nats = app.nats.clone().unwrap();
    let mut seen = nats.subscribe("kansrijk.>").await.unwrap();
    nats.flush().await.unwrap();
    let subject = uuid::Uuid::new_v4();
    let path = format!("/v1/betrokkenen/{subject}/inzage");
    let officer = issuer.claims(persona("privacyfunctionaris").unwrap());
    for (what, claims) in [
        (
            "role dienst",
            Claims {
                role: "dienst".into(),
                ..officer.clone()
            },
        ),
        (
            "subject dienst:privacy",
            Claims {
                sub: "dienst:privacy".into(),
                ..officer.clone()
            },
        ),
        (
            "the whole service identity",
            Claims {
                sub: "dienst:vve".into(),
                role: "dienst".into(),
                municipality: "0000".into(),
                organisation_type: "gemeente".into(),
                ..officer.clone()
            },
        ),
        (
            "municipality 0000",
            Claims {
                municipality: "0000".into(),
                ..officer.clone()
            },
        ),
    ] {
        let token = issuer.sign(&claims).unwrap();
        let r = app.get(&path, Some(&token)).await;
        assert_eq!(r.status().as_u16(), 401, "{what}");
    }
    let reached = tokio::time::timeout(std::time::Duration::from_millis(500), seen.next()).await;
    assert!(
        reached.is_err(),
        "a request with a service identity reached NATS: {:?}",
        reached.ok().flatten().map(|m| m.subject)
    );
}

#[tokio::test]
async fn the_development_issuer_refuses_a_redirect_with_user_info_or_elsewhere() {
    let app = TestApp::start(Options::default()).await;
    let challenge = pkce_challenge("Zq2vN8bWc4kP0yTgR7eLxA1sD5fH9jM3uQ6oI2wE8rTyU4iO");
    let own = app.url("/inloggen/terug");
    let authorize = |redirect: &str| {
        let http = app.http.clone();
        let url = app.url("/dev-oidc/authorize");
        let redirect = redirect.to_owned();
        let challenge = challenge.clone();
        async move {
            http.get(url)
                .query(&[
                    ("response_type", "code"),
                    ("client_id", "kansrijk-web"),
                    ("redirect_uri", redirect.as_str()),
                    ("state", "s"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(authorize(&own).await, 200, "the own redirect URI");
    let port = app.addr.port();
    for evil in [
        "http://localhost:80@evil.example/".to_owned(),
        format!("http://127.0.0.1:{port}@evil.example/inloggen/terug"),
        "http://localhost@evil.example/".to_owned(),
        format!("http://evil.example\\@127.0.0.1:{port}/inloggen/terug"),
        "http://127.0.0.1.evil.example/".to_owned(),
        format!("{own}#frag"),
    ] {
        assert_eq!(authorize(&evil).await, 400, "authorize: {evil}");
        // Nor after a chosen persona (the form posts the same parameters).
        let r = app
            .http
            .post(app.url("/dev-oidc/authorize"))
            .form(&[
                ("response_type", "code"),
                ("client_id", "kansrijk-web"),
                ("redirect_uri", evil.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("persona", "leerkracht"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "chooser: {evil}");
        let r = app
            .http
            .get(app.url("/dev-oidc/logout"))
            .query(&[("post_logout_redirect_uri", evil.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "logout: {evil}");
    }
    // An id_token_hint that is not this issuer's is refused.
    let r = app
        .http
        .get(app.url("/dev-oidc/logout"))
        .query(&[("id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
