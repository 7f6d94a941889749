//! Panics of the feed parser, a dependency reading hostile input, caught so that
//! one document costs one source, not the process. The thread is marked while
//! such code runs, so the process's panic hook can tell these panics (which the
//! caller reports in one line) from the ones it must report itself.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// How many contained regions the thread is in.
    static CONTAINED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic in it; the thread counts as contained meanwhile.
pub fn contained<T>(f: impl FnOnce() -> T) -> Result<T, Box<dyn Any + Send>> {
    /// Leaves the region however `f` ends.
    struct Region;
    impl Drop for Region {
        fn drop(&mut self) {
            CONTAINED.with(|c| c.set(c.get().saturating_sub(1)));
        }
    }
    CONTAINED.with(|c| c.set(c.get() + 1));
    let _region = Region;
    catch_unwind(AssertUnwindSafe(f))
}

/// Whether a panic on this thread now would be caught by [`contained`]: a panic
/// hook asks this to stay silent about it.
pub fn panic_is_contained() -> bool {
    CONTAINED.with(|c| c.get() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_marked_while_it_runs_and_after_a_panic_is_left() {
        assert!(!panic_is_contained());
        assert!(contained(panic_is_contained).unwrap());
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let caught = contained(|| -> u8 { panic!("hostile") });
        std::panic::set_hook(hook);
        assert!(caught.is_err());
        assert!(!panic_is_contained());
        // Elsewhere on other threads nothing is contained.
        let other = contained(|| std::thread::spawn(panic_is_contained).join().unwrap());
        assert!(!other.unwrap());
    }
}
