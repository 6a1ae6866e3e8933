//! Latchkey's shared crate: everything two or more functions need, each concern once.
//!
//! A function's `main` builds an [`App`] once per process (config, pool, keys, hasher) and
//! hands it to [`http::lambda::serve`]; its handler parses the request with
//! [`http::request`], authenticates with [`auth`], does its work through [`db`],
//! [`auth::sessions`], [`accounts::users`] and [`auth::password`], and answers with
//! [`http::response`] or an [`ApiError`].
//!
//! The map, each folder's `mod.rs` saying what lives there:
//! - [`http`]: the HTTP edge (requests, answers, errors, the Lambda entry point, OpenAPI);
//! - [`accounts`]: users, their identifiers and their audit events;
//! - [`auth`]: tokens and keys, sessions, passwords and the lock, one-time tokens, TOTP,
//!   per-IP limits;
//! - [`contacts`]: the one resource users own;
//! - the plumbing every folder uses: [`config`], [`db`], [`clock`], [`mail`] and [`app`],
//!   which ties them together per process.
//!
//! Dependencies point one way between folders: `auth` → `accounts` → `http`
//! (`tests/consistency/layers.rs` keeps it so).

pub mod accounts;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod db;
pub mod http;
pub mod mail;

pub use app::App;
pub use config::Config;
pub use http::error::ApiError;
pub use lambda_http::{Body, Request, Response};
