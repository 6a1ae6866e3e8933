use latchkey_tests::{TestApp, json, req};

use crate::{Api, PASSWORD, access_claims, refresh_claims, signed};

#[tokio::test]
async fn refreshing_rotates_the_pair_and_returns_the_user() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let registered = api.sign_up("ivy").await;
    let refreshed = api.refresh(&registered.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.body["user"], registered.body["user"]);
    assert_ne!(refreshed.refresh_token(), registered.refresh_token());
    assert_eq!(api.me(&refreshed.access_token()).await.status, 200);
    let again = api.refresh(&refreshed.refresh_token()).await;
    assert_eq!(again.status, 200, "the new refresh token rotates in turn");
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_whole_session() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let registered = api.sign_up("jack").await;
    let old_refresh = registered.refresh_token();
    let rotated = api.refresh(&old_refresh).await;

    let reused = api.refresh(&old_refresh).await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.error_code(), "token_reused");
    assert!(
        reused
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    // Everything of that session is dead now, the legitimate new pair included.
    let newest = api.refresh(&rotated.refresh_token()).await;
    assert_eq!(newest.status, 401);
    assert_eq!(newest.error_code(), "invalid_token");
    assert_eq!(api.me(&rotated.access_token()).await.status, 401);
    assert_eq!(api.me(&registered.access_token()).await.status, 401);
    // Other sessions of the user are untouched.
    let other = api.login("jack", PASSWORD).await;
    assert_eq!(api.me(&other.access_token()).await.status, 200);
}

#[tokio::test]
async fn concurrent_presentations_of_one_refresh_token_yield_one_pair_and_a_revoked_session() {
    let t = TestApp::with_env(&[("DATABASE_POOL_SIZE", "10")]).await;
    let registered = Api(&t).sign_up("kim").await;
    let token = registered.refresh_token();
    let attempts = (0..10).map(|_| {
        ::refresh::handler(
            &t.app,
            req::post("/auth/refresh", &json!({"refresh_token": token})),
        )
    });
    let responses: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|o| t.respond(o))
        .collect();
    let winners: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        responses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // The first loser to get the row lock sees the rotated jti, counts as reuse and revokes
    // the session; those after it find a revoked session.
    let codes: Vec<&str> = responses
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| r.error_code())
        .collect();
    assert!(
        codes
            .iter()
            .all(|c| *c == "token_reused" || *c == "invalid_token"),
        "{codes:?}"
    );
    assert!(codes.contains(&"token_reused"), "{codes:?}");
    assert_eq!(
        Api(&t).me(&winners[0].access_token()).await.status,
        401,
        "the session is revoked"
    );
}

#[tokio::test]
async fn an_access_token_is_not_a_refresh_token() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up("leo").await;
    let response = Api(&t).refresh(&registered.access_token()).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.error_code(), "invalid_token");
}

#[tokio::test]
async fn garbage_expired_or_foreign_refresh_tokens_are_invalid() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up("mia").await;
    let foreign = t.reconfigured(&[("JWT_SECRET", "another-secret-another-secret-0123456789")]);
    let mut claims = refresh_claims(
        &foreign,
        &foreign
            .tokens()
            .unwrap()
            .issue(
                1,
                shared::accounts::identity::Role::User,
                &shared::auth::sessions::NewSession {
                    id: uuid::Uuid::new_v4(),
                    refresh_jti: uuid::Uuid::new_v4(),
                    amr: vec!["pwd".to_owned()],
                    auth_time: 0,
                },
            )
            .unwrap()
            .refresh_token,
    );
    let foreign_token = signed(&foreign, &claims);
    claims = refresh_claims(&t.app, &registered.refresh_token());
    claims.exp = chrono::Utc::now().timestamp() - 10;
    let expired = signed(&t.app, &claims);
    for token in ["garbage", "a.b.c", foreign_token.as_str(), expired.as_str()] {
        let response = Api(&t).refresh(token).await;
        assert_eq!(response.status, 401, "{token}");
        assert_eq!(response.error_code(), "invalid_token");
    }
}

#[tokio::test]
async fn a_missing_refresh_token_is_a_validation_error() {
    let t = TestApp::new().await;
    let response =
        t.respond(::refresh::handler(&t.app, req::post("/auth/refresh", &json!({}))).await);
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    assert_eq!(
        response.body["fields"]["refresh_token"],
        json!(["is required"])
    );
}

#[tokio::test]
async fn refreshing_never_extends_a_session_past_its_maximum_age() {
    let t = TestApp::with_env(&[("SESSION_MAX_AGE", "600"), ("REFRESH_TOKEN_TTL", "3600")]).await;
    let api = Api(&t);
    let registered = api.sign_up("maxine").await;
    let sql = t.sql().await;
    let lifetime = || async {
        let row = sql
            .query_one(
                "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM sessions",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, f64>(0)
    };
    assert!(lifetime().await <= 600.5, "capped from the start");

    // Ten minutes after the login, the same session refreshes no more.
    let refreshed = api.refresh(&registered.refresh_token()).await;
    assert_eq!(refreshed.status, 200);
    assert!(lifetime().await <= 600.5, "a refresh does not extend it");
    sql.execute(
        "UPDATE sessions SET created_at = created_at - interval '601 seconds',
             expires_at = expires_at - interval '601 seconds'",
        &[],
    )
    .await
    .unwrap();
    api.refresh(&refreshed.refresh_token())
        .await
        .assert_invalid_token();
    assert_eq!(
        api.login("maxine", PASSWORD).await.status,
        200,
        "log in again"
    );
}

#[tokio::test]
async fn access_tokens_say_how_and_when_the_login_happened_and_refreshing_keeps_it() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("amy").await;
    let before = chrono::Utc::now().timestamp();
    let login = api.login("amy", PASSWORD).await;
    let claims = |token: &str| access_claims(&t.app, token);
    let first = claims(&login.access_token());
    assert_eq!(first.amr, Some(vec!["pwd".to_owned()]));
    let auth_time = first.auth_time.expect("auth_time");
    assert!((before - 1..=chrono::Utc::now().timestamp()).contains(&auth_time));

    // A second later, the refreshed token still names the login's time, not its own.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let refreshed = api.refresh(&login.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let second = claims(&refreshed.access_token());
    assert_eq!(second.amr, first.amr);
    assert_eq!(second.auth_time, Some(auth_time));
    assert!(second.iat > auth_time);
}
