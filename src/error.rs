//! Failures that nobody is waiting for.
//!
//! A fire-and-forget task that returns non-zero, and a failed task whose
//! handle was released before anyone waited for it, are reported to their
//! pool's error handler (the asok seed: logged, never raised into the caller,
//! never silently dropped). The default handler prints one line on stderr.

use std::ffi::{c_int, CStr};
use std::sync::Arc;

/// What failed, and how it came to be unobserved.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    /// Address of the task's function (named with dladdr where possible).
    pub func: usize,
    /// The task's argument, as an address.
    pub arg: usize,
    /// The non-zero code the function returned.
    pub code: c_int,
    pub kind: FailureKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Submitted without a handle: nobody could ever observe the code.
    FireAndForget,
    /// Its handle was released without a wait observing the code.
    Unobserved,
}

/// A pool's error handler. `None` prints the default line.
pub type ErrorHandler = Option<Arc<dyn Fn(&Failure) + Send + Sync>>;

/// The symbol name of a function address, if the dynamic symbol table has one.
pub fn symbol_name(addr: usize) -> Option<String> {
    // SAFETY: dladdr only reads loader data structures and fills `info`; the
    // returned name points into a loaded object's string table, valid while
    // the object is loaded, and we copy it out immediately.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr as *const libc::c_void, &mut info) != 0
            && !info.dli_sname.is_null()
            && info.dli_saddr as usize == addr
        {
            return Some(CStr::from_ptr(info.dli_sname).to_string_lossy().into_owned());
        }
    }
    None
}

/// The code a language binding gives a task that failed with an exception,
/// an error or a panic, whose details the binding delivers itself (to the
/// waiter, else to its own error handler): the default report stays quiet
/// so the failure is not printed twice, less readably.
pub(crate) const BINDING_FAILED: c_int = c_int::MIN;

/// Prints the default one-line report on stderr.
pub fn default_report(pool_name: &str, f: &Failure) {
    if f.code == BINDING_FAILED {
        return;
    }
    let name = symbol_name(f.func).unwrap_or_else(|| format!("{:#x}", f.func));
    let how = match f.kind {
        FailureKind::FireAndForget => "fire-and-forget task",
        FailureKind::Unobserved => "task (handle released unobserved)",
    };
    eprintln!("background: {how} {name}(arg={:#x}) in pool \"{pool_name}\" failed with code {}", f.arg, f.code);
}
