//! What other test crates reuse from the benchmark: the Lambda Runtime API emulator and the
//! function instances it runs (`lambda`), and API Gateway events (`event`). tests/runtime
//! runs a function through them.

pub mod event;
pub mod lambda;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;
