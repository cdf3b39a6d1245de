//! Constant tensors (initializers) in the encodings ONNX defines: little-endian
//! `raw_data`, 4-bit integers packed two to a byte, low nibble first.

use super::proto::TensorProto;
use super::proto::tensor_proto::DataType;

/// An initializer named `name` of type `ty`, shape `dims`, bytes `raw`.
fn raw(name: &str, ty: DataType, dims: &[usize], raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        data_type: Some(ty as i32),
        dims: dims.iter().map(|&d| d as i64).collect(),
        raw_data: Some(raw),
        ..Default::default()
    }
}

/// A `float32` tensor.
pub fn f32s(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw(name, DataType::Float, dims, bytes)
}

/// A `double` tensor (the exact form's rescales).
pub fn f64s(name: &str, dims: &[usize], values: &[f64]) -> TensorProto {
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw(name, DataType::Double, dims, bytes)
}

/// An `int64` tensor (shapes, axes, repeats).
pub fn i64s(name: &str, dims: &[usize], values: &[i64]) -> TensorProto {
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw(name, DataType::Int64, dims, bytes)
}

/// Signed integer codes as `int8`, or as `int4` packed two per byte (element 2k in the
/// low nibble of byte k, ONNX's order); every code must then be in [−8, 7].
pub fn codes(name: &str, dims: &[usize], values: &[i8], int4: bool) -> TensorProto {
    if int4 {
        raw(name, DataType::Int4, dims, pack_nibbles(values))
    } else {
        raw(
            name,
            DataType::Int8,
            dims,
            values.iter().map(|&v| v as u8).collect(),
        )
    }
}

/// Zeros of a signed (`int8`/`int4`) or unsigned (`uint8`/`uint4`) quantized type: the
/// zero points, every quantizer here being symmetric (weights) or starting at 0 (HWGQ).
pub fn zeros(name: &str, dims: &[usize], signed: bool, int4: bool) -> TensorProto {
    let n: usize = dims.iter().product();
    let ty = match (signed, int4) {
        (true, true) => DataType::Int4,
        (true, false) => DataType::Int8,
        (false, true) => DataType::Uint4,
        (false, false) => DataType::Uint8,
    };
    let bytes = if int4 { n.div_ceil(2) } else { n };
    raw(name, ty, dims, vec![0; bytes])
}

/// Packs 4-bit two's-complement values two per byte, low nibble first; an odd count leaves
/// the last high nibble 0.
pub fn pack_nibbles(values: &[i8]) -> Vec<u8> {
    values
        .chunks(2)
        .map(|p| {
            let lo = (p[0] as u8) & 0x0F;
            let hi = p.get(1).map_or(0, |&v| (v as u8) & 0x0F);
            lo | (hi << 4)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibbles_pack_low_first_in_twos_complement() {
        assert_eq!(pack_nibbles(&[1, -1, -8, 7, 3]), vec![0xF1, 0x78, 0x03]);
        assert_eq!(pack_nibbles(&[]), Vec::<u8>::new());
    }

    #[test]
    fn raw_data_is_little_endian() {
        let t = f32s("a", &[2], &[1.0, -2.0]);
        assert_eq!(
            t.raw_data.as_deref(),
            Some(&[0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0][..])
        );
        assert_eq!(t.dims, vec![2]);
        let z = zeros("z", &[3], false, true);
        assert_eq!(z.data_type, Some(DataType::Uint4 as i32));
        assert_eq!(z.raw_data.as_deref(), Some(&[0u8, 0][..]));
        let c = codes("c", &[2], &[-1, 5], false);
        assert_eq!(c.raw_data.as_deref(), Some(&[0xFF, 5][..]));
    }
}
