//! Per-IP limits, where the client IP comes from, password strength, and input that must
//! never reach Postgres.

use lambda_http::http::Method;
use latchkey_tests::{TestApp, TestResponse, json, req};
use serde_json::Value;

use super::{Api, PASSWORD, value};

async fn login(t: &TestApp, request: lambda_http::Request) -> TestResponse {
    t.respond(::login::handler(&t.app, request).await)
}

fn login_request(login: &str, password: &str) -> lambda_http::Request {
    req::post(
        "/auth/login",
        &json!({"login": login, "password": password}),
    )
}

#[tokio::test]
async fn each_client_ip_gets_its_per_minute_budget_then_429_with_the_exact_retry_after() {
    let t = TestApp::with_env(&[("IP_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let api = Api(&t);
    for _ in 0..3 {
        let answer = api.login_from("nobody", "wrong", "198.51.100.20").await;
        assert_eq!(answer.status, 401);
    }
    let limited = api.login_from("nobody", "wrong", "198.51.100.20").await;
    limited.assert_error(429, "rate_limited");
    let retry: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    let to_minute_end: f64 = value(&t, "SELECT extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now())::float8", &[]).await;
    assert!(
        (retry as f64 - to_minute_end).abs() <= 2.0,
        "retry-after {retry}, window ends in {to_minute_end}"
    );
    // Another client, and another route, have budgets of their own.
    assert_eq!(
        api.login_from("nobody", "wrong", "198.51.100.21")
            .await
            .status,
        401
    );
    let register = req::from_ip(
        req::post(
            "/auth/register",
            &json!({"login": "newbie", "password": PASSWORD}),
        ),
        "198.51.100.20",
    );
    let registered = t.respond(::register::handler(&t.app, register).await);
    assert_eq!(registered.status, 201, "{}", registered.body);
}

#[tokio::test]
async fn registration_is_limited_per_ip_too() {
    let t = TestApp::with_env(&[("IP_RATE_LIMIT_PER_MINUTE", "2")]).await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let request = req::from_ip(
            req::post(
                "/auth/register",
                &json!({"login": format!("bulk{n}"), "password": PASSWORD}),
            ),
            "2001:db8:9:9::1",
        );
        statuses.push(t.respond(::register::handler(&t.app, request).await).status);
    }
    assert_eq!(statuses, [201, 201, 429]);
}

#[tokio::test]
async fn x_forwarded_for_never_chooses_the_client_ip() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("xavier").await;
    for n in 0..5 {
        let mut request = req::from_ip(login_request("xavier", "wrong"), "203.0.113.50");
        request
            .headers_mut()
            .insert("x-forwarded-for", format!("10.0.0.{n}").parse().unwrap());
        assert_eq!(login(&t, request).await.status, 401);
    }
    let mut request = req::from_ip(login_request("xavier", PASSWORD), "203.0.113.50");
    request
        .headers_mut()
        .insert("x-forwarded-for", "10.9.9.9".parse().unwrap());
    assert_eq!(login(&t, request).await.status, 429, "one client, one lock");
}

#[tokio::test]
async fn behind_cloudfront_only_requests_with_the_origin_secret_are_served_keyed_by_the_viewer() {
    let secret = "an-origin-secret-0123456789";
    let t = TestApp::with_env(&[("BEHIND_CLOUDFRONT", "true"), ("ORIGIN_SECRET", secret)]).await;
    let from_viewer = |viewer: &str, password: &str, with_secret: Option<&str>| {
        // Every request reaches the function from CloudFront's address.
        let mut request = req::from_ip(login_request("cleo", password), "130.176.0.1");
        request
            .headers_mut()
            .insert("cloudfront-viewer-address", viewer.parse().unwrap());
        if let Some(secret) = with_secret {
            request
                .headers_mut()
                .insert("x-origin-secret", secret.parse().unwrap());
        }
        request
    };
    // Registration is refused too without the secret: nobody can bypass CloudFront.
    let direct = t.respond(
        ::register::handler(
            &t.app,
            req::post(
                "/auth/register",
                &json!({"login": "cleo", "password": PASSWORD}),
            ),
        )
        .await,
    );
    direct.assert_error(403, "forbidden");
    let register = req::post(
        "/auth/register",
        &json!({"login": "cleo", "password": PASSWORD}),
    );
    let mut register = req::from_ip(register, "130.176.0.1");
    register
        .headers_mut()
        .insert("x-origin-secret", secret.parse().unwrap());
    assert_eq!(
        t.respond(::register::handler(&t.app, register).await)
            .status,
        201
    );

    let wrong_secret = login(&t, from_viewer("198.51.100.1:4431", PASSWORD, Some("nope"))).await;
    assert_eq!(wrong_secret.status, 403);
    for _ in 0..5 {
        let failed = login(&t, from_viewer("198.51.100.1:4431", "wrong", Some(secret))).await;
        assert_eq!(failed.status, 401);
    }
    let same_viewer = login(&t, from_viewer("198.51.100.1:5555", PASSWORD, Some(secret))).await;
    assert_eq!(same_viewer.status, 429, "locked for that viewer");
    let other_viewer = login(&t, from_viewer("2001:db8::7:443", PASSWORD, Some(secret))).await;
    assert_eq!(
        other_viewer.status, 200,
        "not for another viewer behind the same edge"
    );
}

#[tokio::test]
async fn with_a_minimum_score_guessable_passwords_are_refused() {
    let t = TestApp::with_env(&[("PASSWORD_MIN_SCORE", "2")]).await;
    let api = Api(&t);
    for weak in ["password1", "qwertyuiop", "monkey123"] {
        let answer = api
            .register(json!({"login": "paula", "password": weak}))
            .await;
        assert_eq!(answer.status, 400, "{weak}");
        assert!(
            answer.body["fields"]["password"].is_array(),
            "{}",
            answer.body
        );
    }
    let own_login = api
        .register(json!({"login": "paulasmith1987", "password": "paulasmith1987"}))
        .await;
    assert_eq!(own_login.status, 400, "the login itself is no password");
    let strong = api
        .register(json!({"login": "paula", "password": PASSWORD}))
        .await;
    assert_eq!(strong.status, 201, "{}", strong.body);
}

/// Every string field of the public auth routes, each with a NUL.
#[tokio::test]
async fn a_nul_in_any_field_is_a_400_and_never_reaches_the_database() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let me = api.sign_up("nina").await;
    let nul = "ab\u{0}cd";
    let mut answers: Vec<(String, TestResponse)> = Vec::new();
    answers.push(("login.login".into(), api.login(nul, PASSWORD).await));
    answers.push(("login.password".into(), api.login("nina", nul).await));
    for field in ["login", "email", "phone", "name", "password"] {
        let mut body = json!({"login": "nobody1", "password": PASSWORD});
        body[field] = Value::from(nul);
        answers.push((format!("register.{field}"), api.register(body).await));
    }
    for field in [
        "login",
        "email",
        "phone",
        "name",
        "password",
        "current_password",
    ] {
        let mut body = json!({"current_password": PASSWORD});
        body[field] = Value::from(nul);
        answers.push((
            format!("update-user.{field}"),
            api.update_user(&me.access_token(), super::user_id(&me), body)
                .await,
        ));
    }
    let request = req::json(Method::DELETE, "/users/x", &json!({"password": nul}));
    let request = req::path_param(
        req::bearer(request, &me.access_token()),
        "id",
        &super::user_id(&me).to_string(),
    );
    answers.push((
        "delete-user.password".into(),
        t.respond(::delete_user::handler(&t.app, request).await),
    ));
    for (what, answer) in answers {
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert_eq!(answer.error_code(), "validation_failed", "{what}");
    }
}

/// Random strings, with NUL, control characters, surrogates' neighbours and long runs
/// mixed in, in every field of login, register and update-user: never a 5xx.
#[tokio::test]
async fn any_string_in_any_field_is_answered_without_a_server_error() {
    use rand::Rng as _;
    let t = TestApp::new().await;
    let api = Api(&t);
    let me = api.sign_up("randy").await;
    let mut rng = rand::rng();
    let specials = [
        '\u{0}',
        '\u{1}',
        '\u{7}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{feff}',
        '\u{fffd}',
        '\u{10ffff}',
        'é',
        '%',
        '_',
        '\'',
        '"',
        '\\',
        ' ',
        '\n',
    ];
    let random_string = |rng: &mut rand::rngs::ThreadRng| -> String {
        let len = *[0usize, 1, 3, 8, 40, 300]
            .get(rng.random_range(0..6))
            .unwrap();
        (0..len)
            .map(|_| match rng.random_range(0..3) {
                0 => specials[rng.random_range(0..specials.len())],
                1 => rng.random_range('a'..='z'),
                _ => char::from_u32(rng.random_range(0..0x11000)).unwrap_or('x'),
            })
            .collect()
    };
    for case in 0..60 {
        let s = random_string(&mut rng);
        let field = ["login", "email", "phone", "name", "password"][case % 5];
        let mut body = json!({"login": format!("r{case}"), "password": PASSWORD});
        body[field] = Value::from(s.clone());
        let register = api.register(body).await;
        assert!(
            register.status < 500,
            "register.{field} {s:?}: {}",
            register.body
        );
        let login = api.login(&s, &s).await;
        assert!(login.status < 500, "login {s:?}: {}", login.body);
        let mut patch = json!({"current_password": PASSWORD});
        patch[field] = Value::from(s.clone());
        let update = api
            .update_user(&me.access_token(), super::user_id(&me), patch)
            .await;
        assert!(
            update.status < 500,
            "update-user.{field} {s:?}: {}",
            update.body
        );
    }
}

#[tokio::test]
async fn ended_rate_windows_are_deleted_by_maintenance() {
    let t = TestApp::with_env(&[("IP_RATE_LIMIT_PER_MINUTE", "5")]).await;
    let api = Api(&t);
    api.login_from("nobody", "wrong", "192.0.2.30").await;
    api.login_from("nobody", "wrong", "192.0.2.31").await;
    let sql = t.sql().await;
    sql.execute(
        "UPDATE ip_rate_limits SET window_start = window_start - interval '2 minutes'
         WHERE ip = '192.0.2.30'",
        &[],
    )
    .await
    .unwrap();
    let db = t.app.db().await.unwrap();
    assert_eq!(
        shared::auth::ratelimit::delete_expired(&db).await.unwrap(),
        1
    );
}
