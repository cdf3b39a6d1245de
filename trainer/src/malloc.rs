//! Keeps freed tensor memory in the process instead of returning it to the kernel.
//!
//! Training allocates and frees tensors of a few MB hundreds of times per step. glibc's
//! malloc serves such sizes with fresh `mmap`s (above its adaptive threshold) or trims them
//! off the heap top when freed, so every step faulted in millions of zeroed pages and
//! flushed TLBs on unmap: in `perf stat` of a SAN search iteration 18 % of the CPU time was
//! kernel time, ≈ 0.7 M page faults per iteration. Raising the mmap threshold to glibc's
//! maximum and switching off trimming lets freed blocks be reused (the resident size stays
//! at the step's peak, which it reached anyway).

/// Blocks at least this large still get their own `mmap`. Convolution buffers of a search
/// step reach tens of MB, so glibc's documented 64-bit ceiling of 32 MB (older versions
/// refuse more) leaves most of the faults in place; 2.36 accepts 1 GB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLDS: [i32; 2] = [1 << 30, 32 << 20];

/// Set (to anything) to keep glibc's own allocator settings, e.g. to measure the
/// difference or where memory matters more than speed.
pub const DEFAULTS_VAR: &str = "QUANTNAS_MALLOC_DEFAULTS";

/// Tunes the C allocator for tensor-sized blocks (glibc only, and not when
/// [`DEFAULTS_VAR`] is set). Returns whether it did. Call once, early, from the binary.
pub fn keep_freed_memory() -> bool {
    if std::env::var_os(DEFAULTS_VAR).is_some() {
        return false;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt takes two integers and only changes allocator parameters; glibc
        // documents it as safe to call at any time, from any thread.
        #[allow(unsafe_code)]
        unsafe {
            let trim = libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1;
            let mmap = MMAP_THRESHOLDS
                .iter()
                .any(|&t| libc::mallopt(libc::M_MMAP_THRESHOLD, t) == 1);
            trim && mmap
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_settings() {
        // The test process may have the variable set by a user; the check is about glibc.
        if std::env::var_os(super::DEFAULTS_VAR).is_none() {
            assert!(super::keep_freed_memory());
        }
    }
}
