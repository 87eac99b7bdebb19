//! `time::`: the clock and interruptible sleeps.

use super::*;

pub(super) fn module(s: Option<&Arc<Session>>) -> Module {
    let mut m = Module::new();
    let x = s.cloned();
    reg!(
        m,
        "time",
        "sleep_ms",
        ["ms: int", "()"],
        move |ms: i64| -> ScriptResult<()> {
            let ms = ms.clamp(0, 10_000) as u64;
            let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
            // Sleep in slices so Ctrl-C stops a wait promptly.
            while std::time::Instant::now() < until {
                if let Some(x) = &x {
                    x.check_cancel()?;
                }
                std::thread::sleep(
                    (until - std::time::Instant::now()).min(std::time::Duration::from_millis(50)),
                );
            }
            Ok(())
        }
    );
    reg!(m, "time", "now", ["string"], || jiff::Timestamp::now()
        .to_string());
    m
}
