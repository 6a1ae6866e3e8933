//! Accounts as data: users and their views, the identifiers they sign in with (login,
//! email, phone), and their audit events. Builds on `http` and the crate's plumbing; never
//! on `auth`, which builds on it.

pub mod events;
pub mod identity;
pub mod users;
