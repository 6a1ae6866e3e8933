//! Sending one plain-text mail over SMTP with lettre (tokio, rustls): `SMTP_URL` says
//! where and how (`smtp://host:port` plain, `?tls=required` for STARTTLS as Amazon SES
//! wants, `smtps://` for TLS from the start; credentials in the URL's user part).

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use shared::config::{ConfigError, MailConfig};

/// The SMTP client and the sender address, built once per process.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `SMTP_TIMEOUT_SECS`, for the whole conversation: lettre's own timeout covers
    /// connecting and each command, not a server that accepts and then never speaks.
    timeout: std::time::Duration,
}

/// Why one mail was not accepted: what the SMTP client said, never the mail itself.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

impl Sender {
    /// Fails at start-up, naming the variable, when `SMTP_URL` or `MAIL_FROM` is missing
    /// or unusable.
    pub fn new(config: &MailConfig) -> Result<Self, ConfigError> {
        let bad = |variable: &'static str, problem: &str| ConfigError {
            variable,
            problem: problem.to_owned(),
        };
        let url = config
            .smtp_url
            .as_ref()
            .ok_or_else(|| bad("SMTP_URL", "is required to send mail"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|_| bad("SMTP_URL", "is not a usable smtp:// or smtps:// URL"))?
            .timeout(Some(config.smtp_timeout))
            .build();
        let from = config
            .from
            .as_deref()
            .ok_or_else(|| bad("MAIL_FROM", "is required to send mail"))?
            .parse()
            .map_err(|_| {
                bad(
                    "MAIL_FROM",
                    "must be an address, e.g. Latchkey <no-reply@example.com>",
                )
            })?;
        Ok(Self {
            transport,
            from,
            timeout: config.smtp_timeout,
        })
    }

    /// Sends one plain-text mail; `Ok` once the server accepted it.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| SendError("the recipient is not a valid address".to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(readable(body))
            .map_err(|err| SendError(format!("cannot build the message: {err}")))?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(SendError(error_chain(&err))),
            Err(_) => Err(SendError(format!(
                "no answer from the SMTP server within {} s",
                self.timeout.as_secs()
            ))),
        }
    }
}

/// The body as it is (7bit, CRLF line ends) when it is ASCII without NUL and with lines
/// well under SMTP's 998-octet limit, as every message here is: a link then reads as
/// sent, where lettre would pick quoted-printable for a line over 76 characters and
/// break the link across lines with `=3D` in it. Anything else gets lettre's encoding.
fn readable(body: &str) -> Body {
    let plain = body.is_ascii()
        && !body.contains('\0')
        && !body.contains('\r')
        && body.lines().all(|line| line.len() <= 900);
    match plain {
        true => Body::dangerous_pre_encoded(
            body.replace('\n', "\r\n").into_bytes(),
            ContentTransferEncoding::SevenBit,
        ),
        false => Body::new(body.to_owned()),
    }
}

/// `a: b: c` of an error and its sources.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_body_goes_as_written_so_its_link_stays_whole() {
        let link = format!("https://app.example/verify-email#token={}", "x".repeat(43));
        let body = readable(&format!("Confirm:\n\n{link}\n"));
        assert_eq!(body.encoding(), ContentTransferEncoding::SevenBit);
        let text = String::from_utf8(body.into_vec()).unwrap();
        assert_eq!(text, format!("Confirm:\r\n\r\n{link}\r\n"));
    }

    #[test]
    fn anything_else_is_encoded_by_lettre() {
        let body = readable("Grüße\n");
        assert_ne!(body.encoding(), ContentTransferEncoding::SevenBit);
    }
}
