//! Tensor buffers kept from one run for the next.
//!
//! A fresh multi-megabyte buffer comes from the operating system as untouched pages, and
//! the first write to each page is a page fault: on a 256² → 1024² ESPCN run that cost
//! about as much as all the convolutions. The engine therefore hands the buffers of dead
//! tensors (and, with `std`, those of its previous run) back out for new tensors. Only a
//! few buffers are kept, so the memory held between runs is bounded by the largest tensors
//! of one run.

use alloc::vec;
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
    /// `n` zeros, in the smallest kept buffer that holds them (else a new one).
    pub fn f32(&mut self, n: usize) -> Vec<f32> {
        take_fit(&mut self.f32s, n, 0.0)
    }

    /// `n` zero codes, as [`f32`](Self::f32).
    pub fn codes(&mut self, n: usize) -> Vec<u8> {
        take_fit(&mut self.codes, n, 0)
    }

    /// A copy of `src`, in a kept buffer when one holds it (no zeroing first).
    pub fn copy_of(&mut self, src: &Data) -> Data {
        match src {
            Data::F32(v) => {
                let mut out = take_fit(&mut self.f32s, 0, 0.0);
                out.extend_from_slice(v);
                Data::F32(out)
            }
            Data::Codes(v) => {
                let mut out = take_fit(&mut self.codes, 0, 0);
                out.extend_from_slice(v);
                Data::Codes(out)
            }
        }
    }

    /// `n` zeros of either kind.
    pub fn data(&mut self, codes: bool, n: usize) -> Data {
        if codes {
            Data::Codes(self.codes(n))
        } else {
            Data::F32(self.f32(n))
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

fn take_fit<T: Copy>(list: &mut Vec<Vec<T>>, n: usize, zero: T) -> Vec<T> {
    let best = list
        .iter()
        .enumerate()
        .filter(|(_, v)| v.capacity() >= n)
        .min_by_key(|(_, v)| v.capacity())
        .map(|(i, _)| i);
    match best {
        Some(i) => {
            let mut v = list.swap_remove(i);
            v.clear();
            v.resize(n, zero);
            v
        }
        None => vec![zero; n],
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

    #[test]
    fn buffers_come_back_zeroed_and_smallest_fit_first() {
        let mut p = Pool::default();
        p.put(Data::F32(vec![1.0; 100]));
        p.put(Data::F32(vec![2.0; 10]));
        let v = p.f32(8);
        assert_eq!((v.len(), v.capacity()), (8, 10));
        assert!(v.iter().all(|&x| x == 0.0));
        let w = p.f32(200);
        assert_eq!(w.len(), 200);
        assert_eq!(p.f32s.len(), 1, "the 100-buffer is still kept");
        for k in 0..10 {
            p.put(Data::Codes(vec![0; k + 1]));
        }
        assert_eq!(p.codes.len(), KEEP);
        assert!(p.codes.iter().all(|v| v.capacity() > 10 - KEEP));
    }
}
