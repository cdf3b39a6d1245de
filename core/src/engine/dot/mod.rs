//! Exact `u8 × i8 → i32` dot products of the 4/8-bit convolutions, one kernel per
//! instruction set, chosen at run time.
//!
//! The integer conv ([`IntConv`](super::int_conv)) turns each output row into a small
//! matrix product: for every output channel `c` and output pixel `p`,
//! `acc[c][p] = Σₖ a[k][p] · w[c][k]` over the `k` taps of the channel's group
//! (input channel × kernel row × kernel column), with activation codes `a ∈ [0, 255]` and
//! weight codes `w ∈ [−128, 127]`. Every kernel here computes that sum *exactly* in `i32`
//! whatever the weight values are (the engine has checked that no sum can wrap), so all of
//! them give the same bits and their speed does not depend on the weights.
//!
//! The layouts are chosen for the instructions that multiply four bytes and add them into
//! one `i32` lane (`vpdpbusd`), and they serve the instructions that multiply pairs of
//! `i16` (`pmaddwd`, wasm's `i32x4.dot_i16x8_s`) as well:
//! - activations of one row are *quads*: `a[tile][kq][p][j]` is tap `4·kq + j` at pixel
//!   `tile·TILE + p`, [`TILE`] pixels a tile (taps past the last are zero);
//! - weights of channel `c` are the same quads, `w8[c][kq]` as four `i8` in an `i32`
//!   (little-endian: byte `j` is tap `4·kq + j`), and `w16[c][kq]` as four `i16` in an `i64`
//!   for the `pmaddwd` kernels.
//!
//! A kernel keeps a block of channels × a tile of pixels in registers, loads each
//! activation vector once for the whole channel block and broadcasts each weight quad.
//! [`dot_tiles_plain`] is the plain twin every kernel is tested against bit for bit.

use alloc::vec::Vec;

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub(crate) mod x86;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;

/// Pixels per tile: one tile of one channel is 32 `i32` sums.
pub(crate) const TILE: usize = 32;

/// An instruction set a kernel is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain Rust the compiler vectorises as it can (any target).
    Portable,
    /// x86 SSE2 `pmaddwd` on zero-extended codes (every x86-64 CPU).
    Sse2,
    /// x86 AVX2 `vpmaddwd`, 256-bit.
    Avx2,
    /// x86 AVX-VNNI `vpdpbusd`, 256-bit (e.g. Alder Lake, Zen 5 without AVX-512).
    AvxVnni,
    /// x86 AVX-512 VNNI `vpdpbusd`, 512-bit (Ice Lake and later Xeons, Zen 4).
    Avx512Vnni,
    /// WebAssembly SIMD128 `i32x4.dot_i16x8_s`.
    Simd128,
    /// WebAssembly relaxed SIMD `i32x4.relaxed_dot_i8x16_i7x16_add_s` (`vpdpbusd` where the
    /// CPU has VNNI) for layers whose activation codes fit 7 bits (4-bit layers: exact on
    /// every engine, since relaxed results differ only for bytes ≥ 128); SIMD128 for the
    /// others. Only in a build with `+relaxed-simd` (the page loads it where the browser
    /// validates it).
    RelaxedSimd128,
}

impl Isa {
    /// Every instruction set, slowest first.
    pub const ALL: [Isa; 7] = [
        Isa::Portable,
        Isa::Sse2,
        Isa::Simd128,
        Isa::RelaxedSimd128,
        Isa::Avx2,
        Isa::AvxVnni,
        Isa::Avx512Vnni,
    ];

    /// Short name, as benches print it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Sse2 => "sse2",
            Isa::Avx2 => "avx2",
            Isa::AvxVnni => "avx-vnni",
            Isa::Avx512Vnni => "avx512-vnni",
            Isa::Simd128 => "wasm-simd128",
            Isa::RelaxedSimd128 => "wasm-relaxed-simd",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| i.name() == name)
    }

    /// Whether this CPU runs the kernel. With the `std` feature x86 CPUs are asked at run
    /// time; without it only what the build enables at compile time counts.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Isa::Sse2 | Isa::Avx2 | Isa::AvxVnni | Isa::Avx512Vnni => x86::available(self),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            #[cfg(all(
                target_arch = "wasm32",
                target_feature = "simd128",
                target_feature = "relaxed-simd"
            ))]
            Isa::RelaxedSimd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest kernel this CPU runs.
    pub fn best() -> Isa {
        Isa::ALL
            .into_iter()
            .rev()
            .find(|i| i.is_available())
            .unwrap_or(Isa::Portable)
    }

    /// Every kernel this CPU runs, slowest first.
    pub fn available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    }
}

impl core::fmt::Display for Isa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Weight quads of one conv, in both forms the kernels read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Weights {
    /// `[channel][kq]`: four `i8` codes in an `i32`.
    pub w8: Vec<i32>,
    /// `[channel][kq]`: four `i16` codes in an `i64`.
    pub w16: Vec<i64>,
    /// `w16` with every entry twice: a 128-bit vector of the quad, loaded whole by the
    /// 128-bit kernels instead of being broadcast on every use.
    pub w16x2: Vec<i64>,
}

impl Weights {
    /// Packs `channels` rows of `k` codes each (`codes[c·k + t]`) into quads of `kq =
    /// ⌈k/4⌉`, adding `pad` all-zero channels.
    pub fn pack(codes: &[i8], channels: usize, k: usize, pad: usize) -> Weights {
        let kq = k.div_ceil(4);
        let mut out = Weights {
            w8: Vec::with_capacity((channels + pad) * kq),
            w16: Vec::with_capacity((channels + pad) * kq),
            w16x2: Vec::with_capacity(2 * (channels + pad) * kq),
        };
        for c in 0..channels + pad {
            for q in 0..kq {
                let tap = |j: usize| {
                    let t = 4 * q + j;
                    if c < channels && t < k {
                        codes[c * k + t]
                    } else {
                        0
                    }
                };
                out.w8
                    .push(i32::from_le_bytes(core::array::from_fn(|j| tap(j) as u8)));
                let q16: [i16; 4] = core::array::from_fn(|j| i16::from(tap(j)));
                let q16 = (0..4).fold(0i64, |acc, j| acc | (i64::from(q16[j] as u16) << (16 * j)));
                out.w16.push(q16);
                out.w16x2.extend([q16, q16]);
            }
        }
        out
    }
}

/// One call's operands: `tiles` tiles of activation quads, `chans` channels of weights
/// (a multiple of 4), and the sums' rows (`acc[c·tiles·TILE + p]`).
pub(crate) struct DotTiles<'a> {
    /// `[tile][kq][TILE][4]` activation codes.
    pub a: &'a [u8],
    /// Quads per pixel.
    pub kq: usize,
    /// Tiles.
    pub tiles: usize,
    /// `[chans][kq]` weight quads, `i8` form.
    pub w8: &'a [i32],
    /// `[chans][kq]` weight quads, `i16` form.
    pub w16: &'a [i64],
    /// `[chans][kq][2]`: the same, each twice.
    pub w16x2: &'a [i64],
    /// Channels, a multiple of 4.
    pub chans: usize,
    /// Largest activation code in `a` (15 or 255): whether the relaxed-SIMD kernel is
    /// exact (read only by that wasm build).
    #[cfg_attr(
        not(all(target_arch = "wasm32", target_feature = "relaxed-simd")),
        allow(dead_code)
    )]
    pub max_act: u8,
}

impl DotTiles<'_> {
    /// Panics unless every slice is as long as the shape says (what makes the kernels'
    /// unchecked loads sound).
    fn check(&self, acc: &[i32]) {
        assert!(self.chans.is_multiple_of(4), "channel count {}", self.chans);
        assert!(
            self.a.len() >= self.tiles * self.kq * TILE * 4,
            "activation quads"
        );
        assert!(self.w8.len() >= self.chans * self.kq, "i8 weight quads");
        assert!(self.w16.len() >= self.chans * self.kq, "i16 weight quads");
        assert!(
            self.w16x2.len() >= 2 * self.chans * self.kq,
            "i16 weight quad pairs"
        );
        assert!(acc.len() >= self.chans * self.tiles * TILE, "sums");
    }
}

/// Fills `acc` with the sums of `d` on `isa`'s kernel. An `isa` this CPU lacks runs the
/// portable kernel (the engine only asks for available ones).
pub(crate) fn dot_tiles(isa: Isa, d: &DotTiles<'_>, acc: &mut [i32]) {
    d.check(acc);
    match isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        Isa::Sse2 | Isa::Avx2 | Isa::AvxVnni | Isa::Avx512Vnni if x86::available(isa) => {
            x86::dot_tiles(isa, d, acc)
        }
        #[cfg(all(
            target_arch = "wasm32",
            target_feature = "simd128",
            target_feature = "relaxed-simd"
        ))]
        Isa::RelaxedSimd128 if d.max_act <= 63 => wasm::dot_tiles_relaxed(d, acc),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Isa::Simd128 | Isa::RelaxedSimd128 => wasm::dot_tiles(d, acc),
        _ => dot_tiles_portable(d, acc),
    }
}

/// The portable kernel: one tile × one channel at a time in a fixed-size array.
fn dot_tiles_portable(d: &DotTiles<'_>, acc: &mut [i32]) {
    let (kq, owp) = (d.kq, d.tiles * TILE);
    for t in 0..d.tiles {
        let at = &d.a[t * kq * TILE * 4..][..kq * TILE * 4];
        for c in 0..d.chans {
            let mut s = [0i32; TILE];
            for (q, aq) in at.chunks_exact(TILE * 4).enumerate() {
                let w = d.w8[c * kq + q].to_le_bytes().map(|b| i32::from(b as i8));
                for (s, a) in s.iter_mut().zip(aq.chunks_exact(4)) {
                    *s += i32::from(a[0]) * w[0]
                        + i32::from(a[1]) * w[1]
                        + i32::from(a[2]) * w[2]
                        + i32::from(a[3]) * w[3];
                }
            }
            acc[c * owp + t * TILE..][..TILE].copy_from_slice(&s);
        }
    }
}

#[cfg(test)]
/// The plain twin: the definition, one product at a time, in `i64` (so it cannot wrap
/// where a kernel would), checked against `i32`.
pub(crate) fn dot_tiles_plain(d: &DotTiles<'_>, acc: &mut [i32]) {
    d.check(acc);
    let owp = d.tiles * TILE;
    for c in 0..d.chans {
        for t in 0..d.tiles {
            for p in 0..TILE {
                let mut s = 0i64;
                for q in 0..d.kq {
                    let w = d.w8[c * d.kq + q].to_le_bytes();
                    for (j, &wb) in w.iter().enumerate() {
                        let a = d.a[((t * d.kq + q) * TILE + p) * 4 + j];
                        s += i64::from(a) * i64::from(wb as i8);
                    }
                }
                acc[c * owp + t * TILE + p] = i32::try_from(s).unwrap_or(i32::MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pcg32;
    use alloc::vec;

    fn case(rng: &mut Pcg32, k: usize, chans: usize, tiles: usize, extreme: bool) {
        let kq = k.div_ceil(4);
        let mut codes: Vec<i8> = (0..chans * k)
            .map(|_| (rng.below(256) as i32 - 128) as i8)
            .collect();
        let mut a: Vec<u8> = (0..tiles * kq * TILE * 4)
            .map(|_| rng.below(256) as u8)
            .collect();
        if extreme {
            codes.iter_mut().for_each(|q| *q = -128);
            a.iter_mut().for_each(|x| *x = 255);
        }
        // Zero the padded taps, as the conv's im2col does.
        for t in 0..tiles {
            for q in 0..kq {
                for p in 0..TILE {
                    for j in 0..4 {
                        if 4 * q + j >= k {
                            a[((t * kq + q) * TILE + p) * 4 + j] = 0;
                        }
                    }
                }
            }
        }
        let w = Weights::pack(&codes, chans, k, 0);
        let d = DotTiles {
            a: &a,
            kq,
            tiles,
            w8: &w.w8,
            w16: &w.w16,
            w16x2: &w.w16x2,
            chans,
            max_act: if extreme {
                255
            } else {
                a.iter().copied().max().unwrap_or(0)
            },
        };
        let mut want = vec![0; chans * tiles * TILE];
        dot_tiles_plain(&d, &mut want);
        for isa in Isa::available() {
            let mut got = vec![7; chans * tiles * TILE];
            dot_tiles(isa, &d, &mut got);
            assert_eq!(got, want, "{isa} k {k} chans {chans} tiles {tiles}");
        }
    }

    #[test]
    fn every_kernel_equals_the_plain_twin_exactly() {
        let mut rng = Pcg32::new(3);
        for (k, chans, tiles) in [
            (1, 4, 1),
            (3, 4, 2),
            (4, 8, 1),
            (9, 12, 3),
            (27, 16, 2),
            (75, 64, 1),
            (288, 8, 2),
            (576, 4, 1),
        ] {
            case(&mut rng, k, chans, tiles, false);
            case(&mut rng, k, chans, tiles, true);
        }
    }

    #[test]
    fn best_is_available_and_names_round_trip() {
        assert!(Isa::best().is_available());
        assert!(Isa::Portable.is_available());
        for isa in Isa::ALL {
            assert_eq!(Isa::from_name(isa.name()), Some(isa));
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        assert!(Isa::Sse2.is_available());
    }

    #[test]
    fn weight_quads_hold_the_codes() {
        let w = Weights::pack(&[1, -2, 3, -4, 5, -128], 1, 6, 1);
        assert_eq!(w.w8.len(), 4);
        assert_eq!(w.w8[0].to_le_bytes().map(|b| b as i8), [1, -2, 3, -4]);
        assert_eq!(w.w8[1].to_le_bytes().map(|b| b as i8), [5, -128, 0, 0]);
        assert_eq!(w.w8[2], 0);
        let lanes = |v: i64| core::array::from_fn::<i16, 4, _>(|j| (v >> (16 * j)) as i16);
        assert_eq!(lanes(w.w16[0]), [1, -2, 3, -4]);
        assert_eq!(lanes(w.w16[1]), [5, -128, 0, 0]);
    }
}
