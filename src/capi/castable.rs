//! One way from an opaque C pointer to the Rust object behind it
//! (rustls-ffi's `Castable`). Each opaque C type names its Rust type once,
//! beside its definition, so casting a `bg_group *` to a `Pool` does not
//! compile; and each says how a live object is told from a stale pointer.
//!
//! | C type | Rust object | liveness mark |
//! |---|---|---|
//! | `bg_pool` | `Pool` (boxed; the default pool is static) | `Pool`'s magic word |
//! | `bg_task` | `Task` (reference-counted slab slot) | a tag in `Task.state` |
//! | `bg_group`, `bg_serial`, `bg_batch`, `bg_cq` | `Tagged<Arc<..>>` (boxed here) | `Tagged`'s word |
//!
//! The marks are best effort: they catch most freed or foreign pointers
//! that still point at readable memory (tests/c/rel_stale_handle.c), as a
//! debugging aid; passing a freed object stays a contract violation.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque C type and the Rust object its pointers point at.
pub(crate) trait Castable {
    /// What a valid pointer to the C type points at.
    type Rust;
    /// Whether `obj` is still a live object of this type (best effort).
    fn is_live(obj: &Self::Rust) -> bool;
}

/// The live object behind `p`; None for NULL or a pointer detectably not a
/// live object of this type.
pub(crate) fn try_ref<'a, C: Castable>(p: *const C) -> Option<&'a C::Rust> {
    // SAFETY: the header's contract is that a non-null pointer of type `C`
    // is one this library handed out as `C`, so it points at a `C::Rust`
    // (possibly freed: `is_live` then catches most such pointers while the
    // memory is still readable, which is all the check promises).
    let obj = unsafe { (p as *const C::Rust).as_ref()? };
    C::is_live(obj).then_some(obj)
}

/// The C pointer for `obj`: the only cast from a Rust object to a C type.
pub(crate) fn to_c<C: Castable>(obj: *const C::Rust) -> *mut C {
    obj as *mut C
}

/// Takes back a boxed object handed to C with `Box::into_raw`.
///
/// # Safety
/// `p` is live (checked with [`try_ref`]) and came from `Box::into_raw` of a
/// `Box<C::Rust>`, and no other reference to it is used afterwards.
pub(crate) unsafe fn take_box<C: Castable>(p: *mut C) -> Box<C::Rust> {
    // SAFETY: the caller's contract above.
    unsafe { Box::from_raw(p as *mut C::Rust) }
}

/// An object the C layer boxes for the user (a group, a serial queue, a
/// batch, a completion queue), marked with its C type's `TAG` while live.
/// `repr(C)` keeps the tag first whatever `T` is, so a pointer to another
/// tagged type is read at the same place and rejected.
#[repr(C)]
pub(crate) struct Tagged<T> {
    tag: AtomicU64,
    inner: T,
}

const DEAD: u64 = 0x6465_6164_6465_6164;

impl<T> Deref for Tagged<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// A C type whose objects are `Tagged` boxes made by [`new_tagged`].
pub(crate) trait TaggedCastable: Castable<Rust = Tagged<Self::Inner>> {
    type Inner;
    /// The word that marks a live object of this type (its name in ASCII).
    const TAG: u64;
}

/// Implements [`Castable`] and [`TaggedCastable`] for an opaque C type.
macro_rules! tagged_castable {
    ($c:ty => $inner:ty, $tag:expr) => {
        impl crate::capi::castable::Castable for $c {
            type Rust = crate::capi::castable::Tagged<$inner>;
            fn is_live(obj: &Self::Rust) -> bool {
                obj.tag() == <$c as crate::capi::castable::TaggedCastable>::TAG
            }
        }
        impl crate::capi::castable::TaggedCastable for $c {
            type Inner = $inner;
            const TAG: u64 = $tag;
        }
    };
}
pub(crate) use tagged_castable;

impl<T> Tagged<T> {
    pub(crate) fn tag(&self) -> u64 {
        self.tag.load(Ordering::Relaxed)
    }
}

/// Boxes `inner` for C as a live `C`.
pub(crate) fn new_tagged<C: TaggedCastable>(inner: C::Inner) -> *mut C {
    to_c(Box::into_raw(Box::new(Tagged { tag: AtomicU64::new(C::TAG), inner })))
}

/// Frees the object behind `p` and returns what it held; None (nothing
/// freed) for NULL or a pointer detectably not a live `C`.
pub(crate) fn free_tagged<C: TaggedCastable>(p: *mut C) -> Option<C::Inner> {
    try_ref(p)?;
    // SAFETY: live, so it came from Box::into_raw in new_tagged; the C
    // caller gives up the pointer with this call (the header's contract).
    let obj = unsafe { take_box(p) };
    obj.tag.store(DEAD, Ordering::Relaxed);
    let Tagged { inner, .. } = *obj;
    Some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct test_a {
        _private: [u8; 0],
    }
    struct test_b {
        _private: [u8; 0],
    }
    tagged_castable!(test_a => u64, 0xa);
    tagged_castable!(test_b => u64, 0xb);

    #[test]
    fn a_pointer_is_accepted_only_as_its_own_type() {
        let a: *mut test_a = new_tagged(7);
        assert_eq!(try_ref(a).map(|t| **t), Some(7));
        assert!(try_ref(a as *mut test_b).is_none(), "another type's object is not live as this one");
        assert!(try_ref(std::ptr::null::<test_a>()).is_none());
        assert!(free_tagged(a as *mut test_b).is_none(), "nothing is freed through the wrong type");
        assert_eq!(free_tagged(a), Some(7));
    }
}
