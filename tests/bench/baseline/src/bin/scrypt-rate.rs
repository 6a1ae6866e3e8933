//! `scrypt-rate [COUNT] [LOG_N] [R] [P]`: times COUNT raw scrypt evaluations (the `scrypt`
//! crate's primitive, 32-byte output, the work one password verification does) and prints
//! one JSON line: `{"log_n":17,"r":8,"p":1,"ms":[...]}`. Default 10 evaluations at 17/8/1.

#![allow(
    clippy::print_stdout,
    reason = "a command-line tool: stdout is its output"
)]

use std::time::Instant;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |index: usize, default: u32| -> Result<u32, String> {
        args.get(index).map_or(Ok(default), |value| {
            value
                .parse()
                .map_err(|_| format!("argument {} is not a number: {value}", index + 1))
        })
    };
    let count = arg(0, 10)?;
    let (log_n, r, p) = (arg(1, 17)?, arg(2, 8)?, arg(3, 1)?);
    let log_n = u8::try_from(log_n).map_err(|_| "LOG_N is too large".to_owned())?;
    let params = scrypt::Params::new(log_n, r, p).map_err(|err| err.to_string())?;

    let password = b"Bench-Pa55word-x7";
    let salt = b"latchkey-bench-salt";
    let mut output = [0u8; 32];
    let mut millis = Vec::new();
    for _ in 0..count {
        let started = Instant::now();
        scrypt::scrypt(password, salt, &params, &mut output).map_err(|err| err.to_string())?;
        millis.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let millis: Vec<String> = millis.iter().map(|ms| format!("{ms:.3}")).collect();
    println!(
        "{{\"log_n\":{log_n},\"r\":{r},\"p\":{p},\"ms\":[{}]}}",
        millis.join(",")
    );
    Ok(())
}
