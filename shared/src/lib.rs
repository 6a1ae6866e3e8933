//! Latchkey's shared crate: everything two or more functions need, each concern once.
//!
//! A function's `main` builds an [`App`] once per process (config, pool, keys, hasher) and
//! hands it to [`lambda::serve`]; its handler parses the request with [`request`],
//! authenticates with [`auth`], does its work through [`db`], [`sessions`], [`users`] and
//! [`password`], and answers with [`response`] or an [`ApiError`].

pub mod app;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod credentials;
pub mod db;
pub mod error;
pub mod events;
pub mod identity;
pub mod keys;
pub mod lambda;
pub mod mail;
pub mod mfa;
pub mod one_time_tokens;
pub mod openapi;
pub mod page;
pub mod password;
pub mod ratelimit;
pub mod request;
pub mod response;
pub mod sessions;
pub mod signer;
pub mod tokens;
pub mod totals;
pub mod users;

pub use app::App;
pub use config::Config;
pub use error::ApiError;
pub use lambda_http::{Body, Request, Response};
