//! Memory accounting: a counting global allocator that charges every allocation to the
//! `Account` the current thread works for, so `max_memory_mb` bounds real bytes — the growth
//! step of a doubling vector included — rather than an estimate.
//!
//! Why accounts and not one process counter: a bound must trip at the same simulated instant
//! at any thread count (determinism), and a process-wide total depends on how far the other
//! threads have got. An account sees only the allocations made while its owner runs
//! (`charged`), which are a pure function of the run's inputs. The process-wide total is kept
//! too, for reports of what the whole process held.
//!
//! Must not: allocate (it is the allocator), block, or know what the accounts are for.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The bytes one owner (a simulation, a pairing) holds. Owners run on one thread at a time, so
/// the atomics are uncontended; relaxed ordering is enough, as a thread joined by rayon has
/// its writes visible to the joiner.
#[derive(Debug, Default)]
pub struct Account {
    /// Bytes allocated and not freed while charged to this account (frees of memory the
    /// owner took over from elsewhere can make it dip; it is read as at least 0).
    live: AtomicI64,
    /// The largest single allocation made for this account: the next growth of the biggest
    /// container needs about twice that at once.
    largest: AtomicU64,
}

impl Account {
    pub fn new() -> Account {
        Account::default()
    }

    /// Bytes held now.
    pub fn live_bytes(&self) -> u64 {
        self.live.load(Ordering::Relaxed).max(0) as u64
    }

    /// The largest single allocation so far.
    pub fn largest_bytes(&self) -> u64 {
        self.largest.load(Ordering::Relaxed)
    }

    fn charge(&self, delta: i64, size: usize) {
        self.live.fetch_add(delta, Ordering::Relaxed);
        if size as u64 > self.largest.load(Ordering::Relaxed) {
            self.largest.store(size as u64, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// The account the current thread allocates for (null: none). Const-initialised and
    /// without a destructor, so reading it never allocates.
    static CURRENT: Cell<*const Account> = const { Cell::new(std::ptr::null()) };
}

static PROCESS_LIVE: AtomicI64 = AtomicI64::new(0);

/// Bytes allocated by the whole process now (0 unless `Counting` is the global allocator).
pub fn process_bytes() -> u64 {
    PROCESS_LIVE.load(Ordering::Relaxed).max(0) as u64
}

/// Runs `work` with every allocation and free of this thread charged to `account`.
pub fn charged<R>(account: &Account, work: impl FnOnce() -> R) -> R {
    struct Restore(*const Account);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.set(self.0));
        }
    }
    let previous = CURRENT
        .try_with(|c| c.replace(account as *const Account))
        .unwrap_or(std::ptr::null());
    let _restore = Restore(previous);
    work()
}

fn charge(delta: i64, size: usize) {
    PROCESS_LIVE.fetch_add(delta, Ordering::Relaxed);
    let current = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    // SAFETY: a non-null pointer was set by `charged`, whose borrow of the account outlives
    // the closure during which it is set, and is restored before `charged` returns.
    if let Some(account) = unsafe { current.as_ref() } {
        account.charge(delta, size);
    }
}

/// The system allocator, counting.
pub struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; the counting has no effect on the
// memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            charge(layout.size() as i64, layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            charge(layout.size() as i64, layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        charge(-(layout.size() as i64), 0);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            charge(new_size as i64 - layout.size() as i64, new_size);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_sees_what_is_allocated_while_charged() {
        // The crate's tests run under `Counting` (lib.rs), so the account counts real bytes.
        let account = Account::new();
        let kept = charged(&account, || {
            let mut v: Vec<u64> = Vec::with_capacity(1000);
            v.push(1);
            let temporary = vec![0u8; 100_000];
            drop(temporary);
            v
        });
        assert!(account.live_bytes() >= 8_000, "{}", account.live_bytes());
        assert!(account.live_bytes() < 50_000, "the temporary was freed");
        assert!(account.largest_bytes() >= 100_000);
        drop(kept);
        // Freed outside the account: it keeps its count (frees are charged where they happen).
        assert!(account.live_bytes() >= 8_000);
        let outside = vec![0u8; 10_000];
        assert!(
            account.live_bytes() < 50_000,
            "not charged: {}",
            outside.len()
        );
    }
}
