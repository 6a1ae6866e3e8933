//! Mail: the messages Latchkey sends (plain text, short, the link and nothing secret
//! else), queued in the `outbox` table in the caller's transaction, and the per-account
//! caps of the routes that only ask for a mail. Nothing here talks SMTP: `maintenance`
//! delivers the outbox, so no request waits for, or fails because of, a mail server.

use std::time::Duration;

use crate::db::{GenericClient, Type};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::events::{self, EventType, NewEvent};
use crate::accounts::identity::lookup_key;
use crate::accounts::users::{self, User};
use crate::auth::one_time_tokens::{self, Kind, RawToken};
use crate::config::MailConfig;
use crate::http::client::Origin;
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::{App, Request};

/// How long a notice without a token may wait for delivery before it is dropped.
pub const NOTICE_TTL: Duration = Duration::from_secs(3 * 24 * 3600);

/// One message to one address.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// How long the token in the body lives, when it holds one.
    token_ttl: Option<Duration>,
}

/// The messages, built from configuration (`APP_URL`, `MAIL_SUBJECT_PREFIX`) only.
pub struct Messages<'a>(pub &'a MailConfig);

impl Messages<'_> {
    fn mail(&self, to: &str, subject: &str, body: String, token_ttl: Option<Duration>) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("{}{subject}", self.0.subject_prefix),
            body,
            token_ttl,
        }
    }

    /// `{APP_URL}/<page>#token=...`: the fragment never reaches a server or a `Referer`.
    fn link(&self, page: &str, token: &RawToken) -> String {
        format!("{}/{page}#token={}", self.0.app_url, token.expose())
    }

    pub fn verify_email(&self, to: &str, token: &RawToken) -> Mail {
        let body = format!(
            "Please confirm that this is your email address:\n\n{}\n\n\
             The link works once, within {}. If you did not ask for this, ignore this mail.\n",
            self.link("verify-email", token),
            human(self.0.verification_ttl),
        );
        self.mail(
            to,
            "Confirm your email address",
            body,
            Some(self.0.verification_ttl),
        )
    }

    pub fn reset_password(&self, to: &str, token: &RawToken) -> Mail {
        let body = format!(
            "Someone asked to reset the password of your account. To choose a new one:\n\n{}\n\n\
             The link works once, within {}. If it was not you, ignore this mail; your \
             password stays as it is.\n",
            self.link("reset-password", token),
            human(self.0.reset_ttl),
        );
        self.mail(to, "Reset your password", body, Some(self.0.reset_ttl))
    }

    /// To the old address when an email change is requested.
    pub fn email_change_requested(&self, to: &str, revert: &RawToken) -> Mail {
        let body = format!(
            "A change of your account's email address away from this one was requested.\n\n\
             If it was not you, undo it (this also signs out every session):\n\n{}\n\n\
             The link works once, within 7 days.\n",
            self.link("revert-email", revert),
        );
        self.mail(
            to,
            "Your email address is being changed",
            body,
            Some(MailConfig::REVERT_TTL),
        )
    }

    pub fn password_changed(&self, to: &str) -> Mail {
        let body = "The password of your account was just changed, and every other session \
                    was signed out.\n\nIf it was not you, reset your password now and \
                    contact us.\n"
            .to_owned();
        self.mail(to, "Your password was changed", body, None)
    }

    pub fn mfa_enabled(&self, to: &str) -> Mail {
        let body = "A second factor (an authenticator app) was just turned on for your \
                    account, and every other session was signed out. Logins now also ask \
                    for a code from the app.\n\nIf it was not you, reset your password now \
                    and contact us.\n"
            .to_owned();
        self.mail(to, "Two-step login is on", body, None)
    }

    /// After the second factor was turned off, by the user or (`by_admin`) by an admin.
    pub fn mfa_disabled(&self, to: &str, by_admin: bool) -> Mail {
        let who = match by_admin {
            true => "by an administrator, at your request or theirs",
            false => "from your account",
        };
        let body = format!(
            "The second factor of your account was just turned off {who}; logins need \
             only the password again.\n\nIf you did not expect this, reset your password \
             now and contact us.\n"
        );
        self.mail(to, "Two-step login is off", body, None)
    }

    pub fn recovery_code_used(&self, to: &str, remaining: i64) -> Mail {
        let body = format!(
            "One of your recovery codes was just used to sign in or confirm a change; \
             {remaining} remain. Each works once: to get new ones, turn the second factor \
             off and on again.\n\nIf it was not you, reset your password now and \
             contact us.\n"
        );
        self.mail(to, "A recovery code was used", body, None)
    }

    pub fn password_reset(&self, to: &str) -> Mail {
        let body = "The password of your account was just reset with a link sent to this \
                    address, and every session was signed out.\n\nIf it was not you, reset \
                    your password again and contact us.\n"
            .to_owned();
        self.mail(to, "Your password was reset", body, None)
    }
}

/// "24 hours", "1 hour", "30 minutes".
fn human(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    match minutes {
        m if m % 60 == 0 && m / 60 == 1 => "1 hour".to_owned(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        1 => "1 minute".to_owned(),
        m => format!("{m} minutes"),
    }
}

/// Queues `mail` in the outbox; call it in the transaction of the change that causes it.
pub async fn enqueue(client: &impl GenericClient, mail: &Mail) -> Result<(), ApiError> {
    let lifetime = mail.token_ttl.unwrap_or(NOTICE_TTL);
    client
        .execute_typed(
            "INSERT INTO outbox (recipient, subject, body, holds_token, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
            &[
                (&mail.to, Type::TEXT),
                (&mail.subject, Type::TEXT),
                (&mail.body, Type::TEXT),
                (&mail.token_ttl.is_some(), Type::BOOL),
                (&lifetime.as_secs_f64(), Type::FLOAT8),
            ],
        )
        .await?;
    Ok(())
}

/// Records a mail asked for by a mail-only route and says whether it may go: at most one
/// per account per 60 s, 5 per hour and 20 per day. False also when there is no such
/// account. Run it in the transaction that queues the mail.
pub async fn allow_request(client: &impl GenericClient, user_id: i64) -> Result<bool, ApiError> {
    // The account's row lock makes concurrent requests count one after the other.
    users::lock(client, user_id).await?;
    let inserted = client
        .execute_typed(
            "INSERT INTO mail_requests (user_id)
             SELECT u.id FROM users u
             WHERE u.id = $1 AND (
                 SELECT count(*) FILTER (WHERE r.requested_at > now() - interval '60 seconds') < 1
                    AND count(*) FILTER (WHERE r.requested_at > now() - interval '1 hour') < 5
                    AND count(*) < 20
                 FROM mail_requests r
                 WHERE r.user_id = $1 AND r.requested_at > now() - interval '1 day')",
            &[(&user_id, Type::INT8)],
        )
        .await?;
    Ok(inserted == 1)
}

/// The body of the routes that only ask for a mail: `{"login"}`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"login": "john@mail.com"}))]
pub struct MailRequestBody {
    /// The login, the email or the phone, in any case.
    #[schema(value_type = String)]
    pub login: Option<String>,
}

impl MailRequestBody {
    /// The identifier; 400 `validation_failed` when absent or empty.
    pub fn login(self) -> Result<String, ApiError> {
        one_time_tokens::required_field("login", self.login)
    }
}

/// The work of a route that only asks for a mail (resend-verification, forgot-password):
/// reads `{"login"}`, and when that account has an address `to` picks, counts the request
/// against the account's caps ([`allow_request`]), issues a token of `kind` and queues its
/// mail, all in one transaction. With no account or no address, the same statements run
/// and match nothing, so the answer takes as long and reveals nothing. True when a mail
/// was queued.
pub async fn request_link(
    app: &App,
    req: &Request,
    kind: Kind,
    to: impl FnOnce(&User) -> Option<&str>,
) -> Result<bool, ApiError> {
    let origin = app.origin(req)?;
    let mut db = app.db().await?;
    let bucket = match kind {
        Kind::ResetPassword => "forgot-password",
        _ => "resend-verification",
    };
    app.limit_ip(&db, &origin, bucket).await?;
    let login = json_body::<MailRequestBody>(req)?.login()?;
    let user = users::find_by_identifier(&db, &lookup_key(&login)).await?;
    // No user has id 0 (ids start at 1).
    let (user_id, to) = user
        .as_ref()
        .and_then(|user| Some((user.id, to(user)?)))
        .unwrap_or((0, ""));

    let tx = db.transaction().await?;
    let queued = queue_link(app, &tx, &origin, user_id, to, kind, None).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Within the caller's transaction: counts a request for a mail to `to` against account
/// `user_id`'s caps ([`allow_request`]; `0`: no account, the same statements run and match
/// nothing), and when allowed issues a token of `kind`, queues its mail and records the
/// request's event (`actor_id`: who asked, `None` for the account's own public request).
/// True when a mail was queued.
pub async fn queue_link(
    app: &App,
    client: &impl GenericClient,
    origin: &Origin,
    user_id: i64,
    to: &str,
    kind: Kind,
    actor_id: Option<i64>,
) -> Result<bool, ApiError> {
    let config = &app.config.mail;
    let ttl = match kind {
        Kind::VerifyEmail => config.verification_ttl,
        Kind::ResetPassword => config.reset_ttl,
        Kind::RevertEmail | Kind::MfaLogin => {
            return Err(ApiError::internal(
                "only verification and reset links are asked for by mail",
            ));
        }
    };
    let user_id = match allow_request(client, user_id).await? {
        true => user_id,
        false => 0,
    };
    let token = one_time_tokens::issue(client, user_id, kind, Some(to), ttl).await?;
    if let Some(token) = &token {
        let messages = Messages(config);
        let mail = match kind {
            Kind::ResetPassword => messages.reset_password(to, token),
            _ => messages.verify_email(to, token),
        };
        enqueue(client, &mail).await?;
        let requested = match kind {
            Kind::ResetPassword => EventType::PasswordResetRequested,
            _ => EventType::EmailVerificationSent,
        };
        let event = NewEvent::to_user(requested, Some(user_id), actor_id);
        events::record(client, origin, event).await?;
    }
    Ok(token.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_words() {
        assert_eq!(human(Duration::from_secs(86_400)), "24 hours");
        assert_eq!(human(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(human(Duration::from_secs(1_800)), "30 minutes");
        assert_eq!(human(Duration::from_secs(60)), "1 minute");
    }
}
