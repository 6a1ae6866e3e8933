//! The latency floor: what a database round trip alone costs a Rust client, so that a
//! warm invocation can be judged against `hello`'s invocation plus the round trip it
//! cannot avoid (BENCHMARKS.md, "Targets").
//!
//! The client connects as the functions do (`shared::db`): the same URL and role (SCRAM),
//! no TLS on loopback, `application_name=latchkey`, and, as the benchmark runs them
//! (`DATABASE_PREPARED_STATEMENTS=true`), each statement prepared once on the connection
//! with its parameter types and then sent by name (Bind, Execute, Sync in one write: one
//! round trip, as the functions send theirs once warm).

use std::time::{Duration, Instant};

use tokio_postgres::types::Type;

use crate::Result;
use crate::report::Summary;

/// The read get-me cannot avoid: one user row by primary key (get-me's own statement
/// also checks the session, in the same round trip).
pub const READ_SQL: &str = "SELECT id, login, name, role, created_at FROM users WHERE id = $1";

/// The write refresh cannot avoid: one row updated and committed in autocommit (one WAL
/// flush), like refresh's rotation of its session row.
pub const WRITE_SQL: &str = "UPDATE sessions SET refreshed_at = now() WHERE id = $1::uuid";

/// Raw round trips, read and write, from one connection.
pub struct Floor {
    pub read: Summary,
    pub write: Summary,
}

/// Round trips timed one after the other, after `samples / 10` unmeasured ones of each.
/// `user_id` names an account with at least one session (the write touches the newest,
/// which refreshes nothing a client holds: the refresh token's `jti` stays the same).
pub async fn measure(database_url: &str, user_id: i64, samples: usize) -> Result<Floor> {
    let mut config: tokio_postgres::Config = database_url.parse()?;
    if config.get_application_name().is_none() {
        config.application_name("latchkey");
    }
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let session: String = client
        .query_typed_one(
            "SELECT id::text FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1",
            &[(&user_id, Type::INT8)],
        )
        .await
        .map_err(|err| format!("latency floor: no session of user {user_id}: {err}"))?
        .get(0);
    let read_statement = client.prepare_typed(READ_SQL, &[Type::INT8]).await?;
    let write_statement = client.prepare_typed(WRITE_SQL, &[Type::TEXT]).await?;
    let warm_up = (samples / 10).max(5);
    let read = time(warm_up, samples, || async {
        match client.query(&read_statement, &[&user_id]).await?.len() {
            1 => Ok(()),
            rows => Err(format!("latency floor: the read found {rows} rows").into()),
        }
    })
    .await?;
    let write = time(warm_up, samples, || async {
        let updated = client.execute(&write_statement, &[&session]).await?;
        if updated == 1 {
            Ok(())
        } else {
            Err(format!("latency floor: the write updated {updated} rows").into())
        }
    })
    .await?;
    Ok(Floor {
        read: Summary::of(&read).ok_or("latency floor: no reads")?,
        write: Summary::of(&write).ok_or("latency floor: no writes")?,
    })
}

/// `warm_up` unmeasured calls of `round_trip`, then `samples` timed ones.
async fn time<F, Fut>(warm_up: usize, samples: usize, round_trip: F) -> Result<Vec<Duration>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    for _ in 0..warm_up {
        round_trip().await?;
    }
    let mut durations = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        round_trip().await?;
        durations.push(started.elapsed());
    }
    Ok(durations)
}
