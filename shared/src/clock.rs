//! The time handlers go by where the exact second or day matters (TOTP time steps, the
//! day birthdays are counted from): the system clock, or a fixed one that tests set and
//! move.

use chrono::{DateTime, NaiveDate};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The system clock unless [`Clock::set`] fixed it.
#[derive(Debug, Default)]
pub struct Clock {
    /// Seconds since the epoch, or 0 for the system clock.
    fixed: AtomicI64,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now_secs(&self) -> u64 {
        match self.fixed.load(Ordering::Relaxed) {
            secs if secs > 0 => secs as u64,
            _ => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
        }
    }

    /// Today's date in UTC: what "upcoming" and "not in the future" are counted from.
    pub fn today(&self) -> NaiveDate {
        let secs = i64::try_from(self.now_secs()).unwrap_or(i64::MAX);
        DateTime::from_timestamp(secs, 0).map_or(NaiveDate::MAX, |now| now.date_naive())
    }

    /// Fixes the time at `secs` since the epoch (tests: step boundaries, drift, replay).
    pub fn set(&self, secs: u64) {
        self.fixed.store(secs as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_until_fixed() {
        let clock = Clock::default();
        assert!(clock.now_secs() > 1_700_000_000);
        clock.set(1_000_000_030);
        assert_eq!(clock.now_secs(), 1_000_000_030);
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2001, 9, 9).unwrap());
    }
}
