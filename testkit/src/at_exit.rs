//! Work for the end of a test process: after the harness has printed
//! its `test result:` line, when `main` returns (or `exit` is called).

use std::sync::{Mutex, Once, PoisonError};

static HANDLERS: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// Runs `handler` when the process exits, once, after the handlers
/// registered before it.
pub fn register(handler: fn()) {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: atexit(3) stores a pointer to a function with the C
        // ABI that lives as long as the program; it touches no memory.
        let failed = unsafe { libc::atexit(run_handlers) } != 0;
        assert!(!failed, "atexit failed");
    });
    HANDLERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(handler);
}

extern "C" fn run_handlers() {
    let handlers = std::mem::take(
        &mut *HANDLERS.lock().unwrap_or_else(PoisonError::into_inner),
    );
    for handler in handlers {
        handler();
    }
}
