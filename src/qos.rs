//! Quality of service: how much CPU and I/O priority a pool's threads give
//! up so that the rest of the process (the foreground) keeps its latency.
//!
//! Each worker and spare thread applies its pool's class to itself as it
//! starts (Linux priorities are per thread). An unprivileged thread cannot
//! raise its priority back, so a class is fixed for the pool's life.
//!
//! | class | CPU | I/O (ioprio_set) |
//! |---|---|---|
//! | `Default` | unchanged (the creating thread's nice value) | unchanged |
//! | `Utility` | nice +10 | best-effort, lowest level (7) |
//! | `Background` | nice 19 | best-effort, lowest level (7) |
//!
//! Why nice 19 and not `SCHED_IDLE`, and best-effort 7 and not the idle I/O
//! class, is measured and written down in the README ("Quality of
//! service"): `SCHED_IDLE` bought no foreground latency over nice 19 here,
//! and an idle I/O class can starve a background write forever on a busy
//! disk (an audit log that never lands).

/// A pool's class (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Qos {
    #[default]
    Default,
    Utility,
    Background,
}

impl Qos {
    /// Parses `BG_QOS`'s value.
    pub fn parse(s: &str) -> Option<Qos> {
        match s.trim().to_ascii_lowercase().as_str() {
            "default" | "" => Some(Qos::Default),
            "utility" => Some(Qos::Utility),
            "background" => Some(Qos::Background),
            _ => None,
        }
    }

    /// The class named by `BG_QOS`, for the default pool (a bad value is
    /// reported once and ignored).
    pub fn from_env() -> Qos {
        let Ok(v) = std::env::var("BG_QOS") else { return Qos::Default };
        Qos::parse(&v).unwrap_or_else(|| {
            eprintln!("background: ignoring BG_QOS={v:?}: expected default, utility or background");
            Qos::Default
        })
    }
}

const IOPRIO_CLASS_SHIFT: i32 = 13;
const IOPRIO_CLASS_BE: i32 = 2;
const IOPRIO_WHO_PROCESS: i32 = 1;

/// Applies `qos` to the calling thread. Best effort: a refusal (a seccomp
/// filter, say) leaves the thread at its inherited priority.
pub(crate) fn apply_to_current_thread(qos: Qos) {
    let nice_delta = match qos {
        Qos::Default => return,
        Qos::Utility => 10,
        Qos::Background => 19,
    };
    // SAFETY: gettid and get/setpriority on the calling thread's own id take
    // no pointers; ioprio_set with IOPRIO_WHO_PROCESS and who = 0 changes
    // only the calling thread's I/O priority.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        let now = if *libc::__errno_location() != 0 { 0 } else { now };
        let want = (now + nice_delta).min(19);
        libc::setpriority(libc::PRIO_PROCESS, tid, want);
        libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 7);
    }
}
