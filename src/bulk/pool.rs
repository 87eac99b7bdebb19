//! The one worker pool of bulk work: a bulk run's rows, `bulk::map` and pre-flight all go through
//! [`Pool::run`]. Items are pulled one at a time from a shared iterator (a bulk run streams its
//! CSV through it, so memory stays flat); how many threads may take items can change while it
//! runs (`auto` concurrency); a halt stops every thread taking items, and the items in hand finish.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Threads that take items from a shared iterator.
pub struct Pool {
    /// Threads started; those numbered from `allowed` up sleep until the count grows.
    threads: usize,
    allowed: AtomicUsize,
    halted: AtomicBool,
    /// The iterator has ended: idle threads leave.
    exhausted: AtomicBool,
    wake: Wake,
}

impl Pool {
    /// A pool of `threads` threads, `workers` of them taking items at first.
    pub fn new(workers: usize, threads: usize) -> Pool {
        let threads = threads.max(1);
        Pool {
            threads,
            allowed: AtomicUsize::new(workers.clamp(1, threads)),
            halted: AtomicBool::new(false),
            exhausted: AtomicBool::new(false),
            wake: Wake::default(),
        }
    }

    /// How many threads may take items now.
    pub fn workers(&self) -> usize {
        self.allowed.load(Ordering::Relaxed)
    }

    /// Let `n` threads take items (1 to the pool's threads); a thread above the count finishes
    /// its item and then sleeps.
    pub fn set_workers(&self, n: usize) {
        self.allowed
            .store(n.clamp(1, self.threads), Ordering::Relaxed);
        self.wake.notify();
    }

    /// Take no new item; the items in hand finish.
    pub fn halt(&self) {
        self.halted.store(true, Ordering::Relaxed);
        self.wake.notify();
    }

    /// Run `work(state, item)` for every item until the iterator ends or the pool halts (also when
    /// `work` answers `Break`); return when every item taken has finished. Each thread has the
    /// state `init()` gives it, made when it takes its first item (a sleeping thread costs none).
    pub fn run<I, S>(
        &self,
        items: I,
        init: impl Fn() -> S + Sync,
        work: impl Fn(&mut S, I::Item) -> ControlFlow<()> + Sync,
    ) where
        I: Iterator + Send,
    {
        let items = Mutex::new(items);
        std::thread::scope(|scope| {
            for idx in 0..self.threads {
                let (items, init, work) = (&items, &init, &work);
                scope.spawn(move || {
                    let mut state: Option<S> = None;
                    while let Some(item) = self.next_for(idx, items) {
                        let s = state.get_or_insert_with(init);
                        if work(s, item).is_break() {
                            self.halt();
                        }
                    }
                });
            }
        });
    }

    /// Thread `idx`'s next item: sleeps while `idx` is above the allowed count; `None` once the
    /// pool halts or the items run out.
    fn next_for<I: Iterator>(&self, idx: usize, items: &Mutex<I>) -> Option<I::Item> {
        loop {
            if self.halted.load(Ordering::Relaxed) {
                return None;
            }
            if idx >= self.allowed.load(Ordering::Relaxed) {
                if self.exhausted.load(Ordering::Relaxed) {
                    return None;
                }
                // A caller may halt from a flag a signal handler set, which cannot notify: the
                // timeout is the backstop.
                self.wake.wait(Duration::from_secs(1), || {
                    idx < self.allowed.load(Ordering::Relaxed)
                        || self.exhausted.load(Ordering::Relaxed)
                        || self.halted.load(Ordering::Relaxed)
                });
                continue;
            }
            let mut it = items.lock().unwrap_or_else(|e| e.into_inner());
            if self.halted.load(Ordering::Relaxed) || self.exhausted.load(Ordering::Relaxed) {
                return None;
            }
            match it.next() {
                Some(item) => return Some(item),
                None => {
                    self.exhausted.store(true, Ordering::Relaxed);
                    self.wake.notify();
                    return None;
                }
            }
        }
    }
}

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
    let threads = workers.clamp(1, n.max(1));
    Pool::new(threads, threads).run(0..n, init, |state, i| match work(state, i) {
        Some(t) => {
            results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(t);
            ControlFlow::Continue(())
        }
        None => ControlFlow::Break(()),
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Wakes idle threads when what they wait for may have changed, instead of a poll.
#[derive(Default)]
struct Wake {
    m: Mutex<()>,
    cv: Condvar,
}

impl Wake {
    fn notify(&self) {
        let _g = self.m.lock().unwrap_or_else(|e| e.into_inner());
        self.cv.notify_all();
    }

    /// Sleep until `ready` or `at_most` passes.
    fn wait(&self, at_most: Duration, ready: impl Fn() -> bool) {
        let g = self.m.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .cv
            .wait_timeout_while(g, at_most, |_| !ready())
            .unwrap_or_else(|e| e.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    #[test]
    fn every_item_once_in_order_and_a_halt_stops_the_rest() {
        let all = indexed(
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
        let some = indexed(100, 1, || (), |_, i| (i != 10).then_some(i));
        assert_eq!(some.iter().flatten().count(), 10);
        assert!(some[10..].iter().all(Option::is_none));
    }

    /// Items in hand at once, at most: the pool's allowed count, which a caller changes while
    /// it runs (as `auto` concurrency does).
    #[test]
    fn no_more_items_in_hand_than_the_allowed_workers_and_the_count_can_change() {
        let pool = Pool::new(2, 8);
        let (busy, most_before, most_after, done) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            s.spawn(|| {
                pool.run(
                    0..200,
                    || (),
                    |_, _| {
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        let most = if pool.workers() == 2 {
                            &most_before
                        } else {
                            &most_after
                        };
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        busy.fetch_sub(1, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                        ControlFlow::Continue(())
                    },
                )
            });
            let t = Instant::now();
            while done.load(Ordering::SeqCst) < 50 && t.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(1));
            }
            pool.set_workers(8);
        });
        assert_eq!(done.load(Ordering::SeqCst), 200);
        assert!(most_before.load(Ordering::SeqCst) <= 2, "{most_before:?}");
        // Eight threads took items once allowed (the sleeping six woke up).
        assert!(most_after.load(Ordering::SeqCst) > 2, "{most_after:?}");
    }

    /// A halt from outside: the items in hand finish and no new one is taken.
    #[test]
    fn a_halt_from_outside_finishes_the_items_in_hand_and_takes_no_more() {
        let pool = Pool::new(3, 16);
        let (taken, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            s.spawn(|| {
                pool.run(
                    0..,
                    || (),
                    |_, _: u64| {
                        taken.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        finished.fetch_add(1, Ordering::SeqCst);
                        ControlFlow::Continue(())
                    },
                )
            });
            while taken.load(Ordering::SeqCst) < 9 {
                std::thread::sleep(Duration::from_millis(1));
            }
            pool.halt();
        });
        let (t, f) = (
            taken.load(Ordering::SeqCst),
            finished.load(Ordering::SeqCst),
        );
        assert_eq!(t, f, "every item taken finished");
        assert!(t <= 9 + 3, "taken after the halt: {t}");
    }
}
