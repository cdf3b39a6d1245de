//! Tensor buffers kept from one run for the next.
//!
//! A fresh multi-megabyte buffer comes from the operating system as untouched pages, and
//! the first write to each page is a page fault: on a 256² → 1024² ESPCN run that cost
//! about as much as all the convolutions. The engine therefore hands the buffers of dead
//! tensors (and, with `std`, those of its previous run) back out for new tensors. Only a
//! few buffers are kept, so the memory held between runs is bounded by the largest tensors
//! of one run.

use alloc::vec::Vec;

use super::tensor::Data;

/// How many buffers of each element type are kept.
const KEEP: usize = 6;

/// Free buffers, by element type.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    f32s: Vec<Vec<f32>>,
    codes: Vec<Vec<u8>>,
}

impl Pool {
    /// An empty buffer that holds `n` values without growing (the smallest kept one that
    /// does, else a new one), for a writer that pushes them.
    pub fn empty_f32(&mut self, n: usize) -> Vec<f32> {
        take_empty(&mut self.f32s, n)
    }

    /// A copy of `src`, in a kept buffer when one holds it (no zeroing first, and no
    /// growing: the buffer is chosen for `src`'s length).
    pub fn copy_of(&mut self, src: &Data) -> Data {
        match src {
            Data::F32(v) => {
                let mut out = take_empty(&mut self.f32s, v.len());
                out.extend_from_slice(v);
                Data::F32(out)
            }
            Data::Codes(v) => {
                let mut out = take_empty(&mut self.codes, v.len());
                out.extend_from_slice(v);
                Data::Codes(out)
            }
        }
    }

    /// `n` values whose contents are left from an earlier tensor (zeros only where the
    /// kept buffer was shorter), for a writer that overwrites every one of them: zeroing
    /// a multi-megabyte buffer first costs as much as a thin conv.
    pub fn f32_overwritten(&mut self, n: usize) -> Vec<f32> {
        take_stale(&mut self.f32s, n, 0.0)
    }

    /// [`f32_overwritten`](Self::f32_overwritten) for codes.
    pub fn codes_overwritten(&mut self, n: usize) -> Vec<u8> {
        take_stale(&mut self.codes, n, 0)
    }

    /// [`f32_overwritten`](Self::f32_overwritten) of either kind.
    pub fn overwritten(&mut self, codes: bool, n: usize) -> Data {
        if codes {
            Data::Codes(self.codes_overwritten(n))
        } else {
            Data::F32(self.f32_overwritten(n))
        }
    }

    /// Keeps a dead tensor's buffer.
    pub fn put(&mut self, d: Data) {
        match d {
            Data::F32(v) => keep(&mut self.f32s, v),
            Data::Codes(v) => keep(&mut self.codes, v),
        }
    }
}

/// `n` values in the smallest kept buffer that holds them, old values kept.
fn take_stale<T: Copy>(list: &mut Vec<Vec<T>>, n: usize, zero: T) -> Vec<T> {
    let mut v = take_empty_keep(list, n);
    v.truncate(n);
    v.resize(n, zero);
    v
}

/// The smallest kept buffer whose capacity is at least `n`, cleared, or a new one.
fn take_empty<T>(list: &mut Vec<Vec<T>>, n: usize) -> Vec<T> {
    let mut v = take_empty_keep(list, n);
    v.clear();
    v
}

/// [`take_empty`] with the old values still in it.
fn take_empty_keep<T>(list: &mut Vec<Vec<T>>, n: usize) -> Vec<T> {
    let best = list
        .iter()
        .enumerate()
        .filter(|(_, v)| v.capacity() >= n)
        .min_by_key(|(_, v)| v.capacity())
        .map(|(i, _)| i);
    match best {
        Some(i) => list.swap_remove(i),
        None => Vec::with_capacity(n),
    }
}

fn keep<T>(list: &mut Vec<Vec<T>>, v: Vec<T>) {
    if v.capacity() == 0 {
        return;
    }
    list.push(v);
    if list.len() > KEEP
        && let Some(i) = (0..list.len()).min_by_key(|&i| list[i].capacity())
    {
        list.swap_remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn smallest_fit_first() {
        let mut p = Pool::default();
        p.put(Data::F32(vec![1.0; 100]));
        p.put(Data::F32(vec![2.0; 10]));
        let v = p.empty_f32(8);
        assert_eq!((v.len(), v.capacity()), (0, 10));
        let w = p.f32_overwritten(200);
        assert_eq!(w.len(), 200);
        assert!(w.iter().all(|&x| x == 0.0), "a new buffer is zeros");
        assert_eq!(p.f32s.len(), 1, "the 100-buffer is still kept");
        for k in 0..10 {
            p.put(Data::Codes(vec![0; k + 1]));
        }
        assert_eq!(p.codes.len(), KEEP);
        assert!(p.codes.iter().all(|v| v.capacity() > 10 - KEEP));
    }

    /// A copy or a pushed-into buffer is taken at its final size (it used to be the
    /// smallest kept buffer, grown by reallocation), and an overwritten one keeps its old
    /// values only where it had them.
    #[test]
    fn copies_fit_and_overwritten_buffers_keep_their_values() {
        let mut p = Pool::default();
        p.put(Data::F32(vec![1.0; 4]));
        p.put(Data::F32(vec![2.0; 50]));
        let Data::F32(c) = p.copy_of(&Data::F32(vec![3.0; 40])) else {
            panic!("kind")
        };
        assert_eq!((c.len(), c.capacity(), c[39]), (40, 50, 3.0));
        assert_eq!(p.empty_f32(3).capacity(), 4);
        p.put(Data::Codes(vec![7; 6]));
        let Data::Codes(o) = p.overwritten(true, 8) else {
            panic!("kind")
        };
        assert_eq!(o, [0; 8], "6 < 8: a new buffer");
        p.put(Data::Codes(vec![7; 6]));
        let Data::Codes(o) = p.overwritten(true, 4) else {
            panic!("kind")
        };
        assert_eq!(o, [7; 4]);
    }
}
