//! Summaries of samples, and the Markdown tables the harness prints.

use std::fmt::Write as _;
use std::time::Duration;

/// Order statistics of a set of durations.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub mean: f64,
    pub max: f64,
    pub total: f64,
}

impl Summary {
    /// In microseconds. `None` for no samples.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut micros: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        micros.sort_by(f64::total_cmp);
        let total: f64 = micros.iter().sum();
        Some(Self {
            count: micros.len(),
            p50: percentile(&micros, 0.50),
            p99: percentile(&micros, 0.99),
            mean: total / micros.len() as f64,
            max: micros[micros.len() - 1],
            total,
        })
    }

    /// Requests per second at concurrency 1: count over the summed durations.
    pub fn rate(&self) -> f64 {
        self.count as f64 / (self.total / 1e6)
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// A duration given in microseconds, in the unit that reads best.
pub fn micros(value: f64) -> String {
    if value >= 100_000.0 {
        format!("{:.0} ms", value / 1e3)
    } else if value >= 10_000.0 {
        format!("{:.1} ms", value / 1e3)
    } else if value >= 1_000.0 {
        format!("{:.2} ms", value / 1e3)
    } else {
        format!("{value:.0} µs")
    }
}

pub fn duration(value: Duration) -> String {
    micros(value.as_secs_f64() * 1e6)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / 1024.0 / 1024.0)
}

pub fn ratio(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.0}x")
    } else {
        format!("{value:.2}x")
    }
}

/// A count with a space between thousands, as the documents write them: `100 000`.
pub fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// PASS, MISS, or `-` when there is no figure to judge.
pub fn verdict(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "-",
    }
}

/// A Markdown table with aligned columns.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|cell| (*cell).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (index, cell) in row.iter().enumerate().take(columns) {
                widths[index] = widths[index].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::from("|");
            for (index, width) in widths.iter().enumerate() {
                let cell = cells.get(index).map_or("", String::as_str);
                let pad = width - cell.chars().count();
                let _ = write!(text, " {cell}{} |", " ".repeat(pad));
            }
            text.push('\n');
            text
        };
        let mut out = line(&self.header);
        out.push('|');
        for width in &widths {
            out.push_str(&"-".repeat(width + 2));
            out.push('|');
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let summary = Summary::of(&samples).expect("samples");
        assert_eq!(summary.p50, 50.0);
        assert_eq!(summary.p99, 99.0);
        assert_eq!(summary.max, 100.0);
        assert_eq!(
            median(&[Duration::from_millis(3), Duration::from_millis(1)]),
            Some(Duration::from_millis(1))
        );
    }

    #[test]
    fn counts_group_their_thousands() {
        assert_eq!(thousands(300), "300");
        assert_eq!(thousands(10_000), "10 000");
        assert_eq!(thousands(100_000), "100 000");
        assert_eq!(thousands(1_234_567), "1 234 567");
    }

    #[test]
    fn tables_align_their_columns() {
        let mut table = Table::new(&["a", "bb"]);
        table.row(vec!["ccc".into(), "d".into()]);
        assert_eq!(table.render(), "| a   | bb |\n|-----|----|\n| ccc | d  |\n");
    }
}
