//! The HTTP edge: a request in (body and field parsing, the client IP, pages), an answer
//! out (bodies, error codes), the Lambda entry point, and the OpenAPI pieces that describe
//! them. Knows nothing of accounts or credentials: `accounts` and `auth` build on it.

pub mod client;
pub mod error;
pub mod lambda;
pub mod openapi;
pub mod page;
pub mod request;
pub mod response;
pub mod totals;
