use std::ffi::c_char;

use crate::capi::boundary;

/// The version of the loaded library, e.g. "0.1.0" (compare with
/// BG_VERSION_STRING, the header's). Static; never free it.
#[no_mangle]
pub extern "C" fn bg_version() -> *const c_char {
    boundary(|| concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char)
}

/// The loaded library's version packed as major * 10000 + minor * 100 +
/// patch, comparable with BG_VERSION_NUMBER.
#[no_mangle]
pub extern "C" fn bg_version_number() -> u32 {
    boundary(|| {
        let p = |s: &str| s.parse::<u32>().unwrap_or(0);
        p(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
            + p(env!("CARGO_PKG_VERSION_MINOR")) * 100
            + p(env!("CARGO_PKG_VERSION_PATCH"))
    })
}
