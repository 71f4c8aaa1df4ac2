//! TFRecord's checksums: the masked CRC-32C of a record's length and payload, with an inline
//! SSE4.2 path for the short records event files are made of.

const MASK_DELTA: u32 = 0xa282_ead8;

/// TFRecord's masked CRC-32C.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let c = crc32c(bytes);
    (c.rotate_right(15)).wrapping_add(MASK_DELTA)
}

/// CRC-32C. Records are mostly tens of bytes, where the `crc32c` crate's dispatch costs more
/// than the work: short inputs use the SSE4.2 instruction inline when the CPU has it.
pub(super) fn crc32c(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if bytes.len() <= 256 && has_sse42() {
            // SAFETY: the CPU supports SSE4.2 (checked above).
            return unsafe { crc32c_sse42(bytes) };
        }
    }
    crc32c::crc32c(bytes)
}

#[cfg(target_arch = "x86_64")]
fn has_sse42() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| std::arch::is_x86_feature_detected!("sse4.2"))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_sse42(bytes: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u32, _mm_crc32_u64, _mm_crc32_u8};
    let mut c: u64 = 0xffff_ffff;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        c = _mm_crc32_u64(c, u64::from_le_bytes(a));
    }
    let mut c = c as u32;
    let mut rest = words.remainder();
    if rest.len() >= 4 {
        c = _mm_crc32_u32(c, u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]));
        rest = &rest[4..];
    }
    for &b in rest {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

/// Whether a record header (8 length bytes, then their masked CRC) checks out.
pub(super) fn header_ok(b: &[u8]) -> bool {
    let (Some(len), Some(crc)) = (b.get(0..8), b.get(8..12)) else {
        return false;
    };
    let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    masked_crc(len) == crc
}
