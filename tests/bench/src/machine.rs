//! The machine the figures come from, and how busy other processes kept it.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Static facts about the machine and the toolchain.
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
    pub cargo_lambda: String,
    pub postgres: String,
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(
                || "unknown".to_owned(),
                |(_, model)| model.trim().to_owned(),
            );
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0.0);
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |text| text.trim().to_owned()),
            rustc: command_line("rustc", &["--version"]),
            cargo_lambda: command_line("cargo", &["lambda", "--version"]),
            postgres: command_line("postgres", &["--version"]),
        }
    }
}

/// The first line a command prints, or `unknown`.
pub fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The peer's contention indicator (its bench.py `calib ms`): single-thread
/// PBKDF2-SHA256, 100 000 iterations, best of 3, in ms. About 30 with a free core.
pub fn calibration_ms() -> Option<f64> {
    let script = "import hashlib,time\nbest=9e9\nfor _ in range(3):\n t=time.perf_counter(); hashlib.pbkdf2_hmac('sha256', b'calibration', b'salt-salt-salt-1', 100000); best=min(best,time.perf_counter()-t)\nprint(round(best*1000,1))";
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

struct Process {
    parent: u32,
    comm: String,
    ticks: u64,
    start: u64,
}

/// CPU time of every process at one instant.
pub struct CpuSnapshot {
    at: Instant,
    processes: HashMap<u32, Process>,
}

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

impl CpuSnapshot {
    pub fn take() -> Self {
        let mut processes = HashMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                    continue;
                };
                if let Some(process) = read_stat(pid) {
                    processes.insert(pid, process);
                }
            }
        }
        Self {
            at: Instant::now(),
            processes,
        }
    }

    /// Average cores used since `earlier` by processes that are not ours: not this
    /// harness or its descendants (functions, the peer), and not Postgres.
    pub fn foreign_cores_since(&self, earlier: &CpuSnapshot) -> f64 {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64();
        if seconds <= 0.0 {
            return 0.0;
        }
        let ours = self.descendants_of(std::process::id());
        let ticks: u64 = self
            .processes
            .iter()
            .filter(|(pid, process)| !ours.contains(pid) && process.comm != "postgres")
            .map(|(pid, process)| match earlier.processes.get(pid) {
                Some(before) if before.start == process.start => {
                    process.ticks.saturating_sub(before.ticks)
                }
                _ => process.ticks,
            })
            .sum();
        ticks as f64 / TICKS_PER_SECOND / seconds
    }

    fn descendants_of(&self, root: u32) -> HashSet<u32> {
        let mut ours = HashSet::from([root]);
        loop {
            let before = ours.len();
            for (pid, process) in &self.processes {
                if ours.contains(&process.parent) {
                    ours.insert(*pid);
                }
            }
            if ours.len() == before {
                return ours;
            }
        }
    }
}

fn read_stat(pid: u32) -> Option<Process> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the command: state(0) ppid(1) ... utime(11) stime(12) ... starttime(19).
    let number = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<u64>().ok())
    };
    Some(Process {
        parent: u32::try_from(number(1)?).ok()?,
        comm,
        ticks: number(11)? + number(12)?,
        start: number(19)?,
    })
}

/// New processes named `comm` whose pid is above `floor` (pids grow; cheap to poll).
pub fn find_new_process(floor: u32, comm: &str) -> Option<u32> {
    let entries = std::fs::read_dir("/proc").ok()?;
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid > floor)
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.trim() == comm)
        })
}
