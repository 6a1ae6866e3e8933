use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD, user_id};

#[tokio::test]
async fn a_user_deletes_themself_with_their_password_and_every_token_dies() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let (ann, other_session) = api.sign_up_with_two_sessions("ann").await;
    let response = api
        .delete_self(&ann, Some(json!({"password": PASSWORD})))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.body["user"], ann.body["user"],
        "the user as it was"
    );

    for session in [&ann, &other_session] {
        assert_eq!(
            api.me(&session.access_token()).await.error_code(),
            "invalid_token"
        );
        assert_eq!(
            api.refresh(&session.refresh_token()).await.error_code(),
            "invalid_token"
        );
    }
    let sql = t.sql().await;
    let left = sql
        .query_one(
            "SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM user_identifiers)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        left.get::<_, i64>(0),
        0,
        "sessions and identifiers went with the user"
    );
    assert_eq!(
        api.register(json!({"login": "ann", "password": PASSWORD}))
            .await
            .status,
        201,
        "the login is free again"
    );
}

#[tokio::test]
async fn deleting_oneself_needs_the_right_password() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let bob = api.sign_up("bob").await;
    let missing = api.delete_self(&bob, None).await;
    missing.assert_error(400, "validation_failed");
    assert_eq!(missing.body["fields"]["password"], json!(["is required"]));
    let wrong = api
        .delete_self(&bob, Some(json!({"password": "wrong one"})))
        .await;
    wrong.assert_error(403, "wrong_password");
    let mistyped = api
        .delete_self(&bob, Some(json!({"password": 12345678})))
        .await;
    mistyped.assert_error(400, "invalid_json");
    assert_eq!(api.me(&bob.access_token()).await.status, 200, "still there");
}

#[tokio::test]
async fn only_an_admin_deletes_someone_else_and_needs_no_password() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let cat = api.sign_up("cat").await;
    let dan = api.sign_up("dan").await;
    let forbidden = api
        .delete_user(
            &dan.access_token(),
            user_id(&cat),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    forbidden.assert_error(403, "forbidden");

    let admin = api.admin("root").await;
    let deleted = api
        .delete_user(&admin.access_token(), user_id(&cat), None)
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["user"]["login"], "cat");
    assert_eq!(api.me(&cat.access_token()).await.status, 401);
    let again = api
        .delete_user(&admin.access_token(), user_id(&cat), None)
        .await;
    again.assert_error(404, "not_found");
}

#[tokio::test]
async fn a_malformed_id_is_a_validation_error() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let eve = api.sign_up("eve").await;
    let request = latchkey_tests::req::raw(
        lambda_http::http::Method::DELETE,
        "/users/abc",
        String::new(),
    );
    let request = latchkey_tests::req::path_param(
        latchkey_tests::req::bearer(request, &eve.access_token()),
        "id",
        "abc",
    );
    let response = t.respond(::delete_user::handler(&t.app, request).await);
    response.assert_error(400, "validation_failed");
}
