//! Work over a list on a few threads, each with its own state (an engine, a session), results
//! in the list's order. `bulk::map` and pre-flight use it; a bulk run streams its rows through
//! `bulk::rows` instead (its concurrency changes while it runs, and it drains on Ctrl-C).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// `work(state, i)` for every `i` in `0..n` on `workers` threads, each thread with the state
/// `init()` gave it. `work` returning `None` halts every thread after its current item. The
/// result has one entry per item, `None` for those not done.
pub fn indexed<S, T: Send>(
    n: usize,
    workers: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> Option<T> + Sync,
) -> Vec<Option<T>> {
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let halt = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, n.max(1)) {
            scope.spawn(|| {
                let mut state = init();
                while !halt.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    match work(&mut state, i) {
                        Some(t) => results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(t),
                        None => halt.store(true, Ordering::Relaxed),
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_item_once_in_order_and_a_halt_stops_the_rest() {
        let all = super::indexed(
            1000,
            4,
            || 0u32,
            |seen, i| {
                *seen += 1;
                Some(i * 2)
            },
        );
        assert_eq!(all, (0..1000).map(|i| Some(i * 2)).collect::<Vec<_>>());
        // One worker: a halt at item 10 leaves every later item undone.
        let some = super::indexed(100, 1, || (), |_, i| (i != 10).then_some(i));
        assert_eq!(some.iter().flatten().count(), 10);
        assert!(some[10..].iter().all(Option::is_none));
    }
}
