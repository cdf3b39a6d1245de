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

/// Fewest values a thread is given by [`Threads::for_pieces`]: below this, waking a
/// thread costs more than the element-wise work it would take over.
const MIN_PIECE: usize = 1 << 15;

impl Threads {
    /// `f(start, piece)` for contiguous pieces of `dst` that cover it, one per thread
    /// (each a multiple of `align` values long, except the last), in parallel when there
    /// is a pool. For element-wise ops, whose results do not depend on the split.
    pub fn for_pieces<T: Send>(
        &self,
        dst: &mut [T],
        align: usize,
        f: impl Fn(usize, &mut [T]) + Sync + Send,
    ) {
        let align = align.max(1);
        let n = self.count().min(dst.len() / MIN_PIECE).max(1);
        if n == 1 {
            return f(0, dst);
        }
        let units = dst.len().div_ceil(align);
        let mut pieces = Vec::with_capacity(n);
        let (mut rest, mut start) = (dst, 0);
        for r in even_ranges(units, n) {
            let len = ((r.end - r.start) * align).min(rest.len());
            let (head, tail) = rest.split_at_mut(len);
            pieces.push((start, head));
            start += len;
            rest = tail;
        }
        self.map(pieces, |(start, piece)| f(start, piece));
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

    /// Pieces cover the buffer once, in order, aligned; with a pool there is one per
    /// thread.
    #[test]
    fn pieces_cover_the_buffer_aligned() {
        #[cfg(feature = "threads")]
        let pools = [Threads::default(), Threads::new(2), Threads::new(3)];
        #[cfg(not(feature = "threads"))]
        let pools = [Threads::default()];
        for t in pools {
            for len in [0, 5, MIN_PIECE * 3 + 7] {
                let mut buf = vec![0u32; len];
                let starts = std::sync::Mutex::new(Vec::new());
                t.for_pieces(&mut buf, 10, |start, piece| {
                    for (i, v) in piece.iter_mut().enumerate() {
                        *v += (start + i) as u32;
                    }
                    starts.lock().expect("lock").push((start, piece.len()));
                });
                assert!(buf.iter().enumerate().all(|(i, &v)| v == i as u32));
                let mut s = starts.into_inner().expect("lock");
                s.sort();
                assert_eq!(s.len(), if len > MIN_PIECE { t.count() } else { 1 });
                assert!(
                    s[..s.len() - 1]
                        .iter()
                        .all(|&(st, l)| st % 10 == 0 && l % 10 == 0)
                );
            }
        }
    }
}
