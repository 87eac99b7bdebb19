//! How much memory the process holds, counted by the binary's global allocator, so that a runaway
//! script (an array grown in a loop, a string doubled) is stopped by one cheap check per operation.
//!
//! Rhai's own size limits re-measure a whole array or map (strings inside included) after every
//! change: quadratic in the array's length, and an account's 20,000 numbers would trip a 1 MiB
//! "string" limit. Counting allocations costs one atomic add per allocation instead.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes. Installed by the `vline` binary.
pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(1, Ordering::Relaxed);
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                ALLOCATED.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                ALLOCATED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Live bytes, or `None` when the counting allocator is not installed (library users, unit tests).
pub fn allocated() -> Option<usize> {
    (INSTALLED.load(Ordering::Relaxed) == 1).then(|| ALLOCATED.load(Ordering::Relaxed))
}
