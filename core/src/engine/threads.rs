//! The threads the integer convs use: one (the default, and the only choice without the
//! `threads` feature), or a rayon pool of the engine's own.
//!
//! Work is split into output-row ranges that are computed independently (each with its
//! own window and sums), so the result does not depend on the thread count.

use alloc::vec::Vec;

#[cfg(feature = "threads")]
use alloc::sync::Arc;

/// A thread count and, above one, the pool that runs the parts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Threads {
    #[cfg(feature = "threads")]
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl Threads {
    /// `n` threads (0 and 1 mean the calling thread alone).
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    #[cfg(feature = "threads")]
    pub fn new(n: usize) -> Threads {
        let pool = (n > 1).then(|| {
            Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| alloc::format!("quantnas-conv-{i}"))
                    .build()
                    .expect("cannot start the engine's conv threads"),
            )
        });
        Threads { pool }
    }

    /// How many threads work on a conv.
    pub fn count(&self) -> usize {
        #[cfg(feature = "threads")]
        if let Some(p) = &self.pool {
            return p.current_num_threads();
        }
        1
    }

    /// `f` of every item, in item order, on the pool when there is one.
    pub fn map<T: Send, R: Send>(&self, items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
        #[cfg(feature = "threads")]
        if let Some(p) = &self.pool {
            use rayon::prelude::*;
            return p.install(|| items.into_par_iter().map(&f).collect());
        }
        items.into_iter().map(f).collect()
    }
}

/// Splits the `c` planes of `buf` (`plane = rows·row` values each) into the row ranges
/// `parts`: `out[i][ch]` is rows `parts[i]` of plane `ch`.
pub(crate) fn split_planes<'a, T>(
    buf: &'a mut [T],
    plane: usize,
    row: usize,
    parts: &[core::ops::Range<usize>],
) -> Vec<Vec<&'a mut [T]>> {
    let mut out: Vec<Vec<&mut [T]>> = parts.iter().map(|_| Vec::new()).collect();
    for mut rest in buf.chunks_mut(plane.max(1)) {
        for (i, r) in parts.iter().enumerate() {
            let (head, tail) = rest.split_at_mut((r.end - r.start) * row);
            out[i].push(head);
            rest = tail;
        }
    }
    out
}

/// `n` contiguous ranges covering `0..len` as evenly as possible (fewer when `len < n`).
pub(crate) fn even_ranges(len: usize, n: usize) -> Vec<core::ops::Range<usize>> {
    let n = n.clamp(1, len.max(1));
    (0..n).map(|i| i * len / n..(i + 1) * len / n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn ranges_cover_and_planes_split() {
        assert_eq!(even_ranges(10, 3), vec![0..3, 3..6, 6..10]);
        assert_eq!(even_ranges(2, 4), vec![0..1, 1..2]);
        assert_eq!(even_ranges(0, 2), vec![0..0]);
        let mut buf: Vec<u32> = (0..2 * 5 * 3).collect();
        let parts = split_planes(&mut buf, 15, 3, &[0..2, 2..5]);
        assert_eq!(parts[0][1], &[15, 16, 17, 18, 19, 20][..]);
        assert_eq!(parts[1][0], &[6, 7, 8, 9, 10, 11, 12, 13, 14][..]);
    }
}
