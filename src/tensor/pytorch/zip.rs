//! The directory of a `torch.save` zip archive, read from a [`ByteSource`] by offset: the
//! end-of-central-directory record (zip64 when torch wrote one), the central directory, and
//! each entry's local header, to find where its bytes start. `torch.save` stores entries
//! uncompressed (and aligned to 64 bytes), so an entry *is* a byte range of the file: nothing
//! is inflated, and only the ranges a reader wants are read.

use crate::tensor::ByteSource;

/// One stored entry: `len` bytes at `offset` of the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub offset: usize,
    pub len: usize,
}

/// Why the directory could not be read. `Incomplete` when the archive ends too early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipProblem {
    Corrupt(String),
    Incomplete(String),
}

const EOCD: &[u8; 4] = b"PK\x05\x06";
const EOCD64: &[u8; 4] = b"PK\x06\x06";
const LOCATOR64: &[u8; 4] = b"PK\x06\x07";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const LOCAL: &[u8; 4] = b"PK\x03\x04";

fn u16_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 2)
        .map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4).map_or(0, |s| {
        u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    })
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

fn read(src: &ByteSource, offset: u64, len: u64, what: &str) -> Result<Vec<u8>, ZipProblem> {
    let short = || ZipProblem::Incomplete(format!("the {what} lies past the end of the file"));
    let (o, l) = (usize::try_from(offset), usize::try_from(len));
    let (Ok(o), Ok(l)) = (o, l) else {
        return Err(short());
    };
    src.read_at(o, l)
        .map(|c| c.into_owned())
        .map_err(|_| short())
}

/// The archive's entries, in directory order.
pub fn entries(src: &ByteSource) -> Result<Vec<Entry>, ZipProblem> {
    let len = src.len() as u64;
    // The EOCD record is 22 bytes plus a comment of at most 65535.
    let tail_len = len.min(22 + 65_535);
    let tail = read(src, len - tail_len, tail_len, "end of the archive")?;
    let at = tail
        .windows(4)
        .rposition(|w| w == EOCD)
        .filter(|&at| tail.len() - at >= 22)
        .ok_or_else(|| {
            ZipProblem::Incomplete("no end-of-archive record (cut short, or not a zip)".into())
        })?;
    let eocd = &tail[at..];
    let eocd_pos = len - tail_len + at as u64;
    let mut count = u16_at(eocd, 10);
    let mut cd_size = u32_at(eocd, 12);
    let mut cd_offset = u32_at(eocd, 16);
    if count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        let loc_pos = eocd_pos
            .checked_sub(20)
            .ok_or_else(|| ZipProblem::Corrupt("zip64 fields without a zip64 locator".into()))?;
        let loc = read(src, loc_pos, 20, "zip64 locator")?;
        if &loc[..4] != LOCATOR64 {
            return Err(ZipProblem::Corrupt(
                "zip64 fields without a zip64 locator".into(),
            ));
        }
        let rec = read(src, u64_at(&loc, 8), 56, "zip64 end record")?;
        if &rec[..4] != EOCD64 {
            return Err(ZipProblem::Corrupt(
                "the zip64 locator points at no zip64 record".into(),
            ));
        }
        count = u64_at(&rec, 32);
        cd_size = u64_at(&rec, 40);
        cd_offset = u64_at(&rec, 48);
    }
    if cd_offset.checked_add(cd_size).is_none_or(|e| e > len) {
        return Err(ZipProblem::Incomplete(format!(
            "the central directory ({cd_size} bytes at {cd_offset}) lies past the end of the file"
        )));
    }
    // Each central record is at least 46 bytes: the count is bounded by the directory's size.
    if count > cd_size / 46 + 1 {
        return Err(ZipProblem::Corrupt(format!(
            "{count} entries cannot fit in a {cd_size}-byte directory"
        )));
    }
    let cd = read(src, cd_offset, cd_size, "central directory")?;
    let mut out = Vec::with_capacity(count as usize);
    let mut p = 0usize;
    for _ in 0..count {
        let rec = cd
            .get(p..p + 46)
            .filter(|r| &r[..4] == CENTRAL)
            .ok_or_else(|| ZipProblem::Corrupt("a central-directory record is damaged".into()))?;
        let method = u16_at(rec, 10);
        let mut csize = u32_at(rec, 20);
        let mut size = u32_at(rec, 24);
        let (nlen, elen, clen) = (
            u16_at(rec, 28) as usize,
            u16_at(rec, 30) as usize,
            u16_at(rec, 32) as usize,
        );
        let mut local = u32_at(rec, 42);
        let name_bytes = cd
            .get(p + 46..p + 46 + nlen)
            .ok_or_else(|| ZipProblem::Corrupt("an entry name runs past the directory".into()))?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let extra = cd.get(p + 46 + nlen..p + 46 + nlen + elen).unwrap_or(&[]);
        zip64_extra(extra, &mut size, &mut csize, &mut local);
        p += 46 + nlen + elen + clen;
        let shown = crate::text::printable(&name).into_owned();
        if method != 0 || csize != size {
            return Err(ZipProblem::Corrupt(format!(
                "entry {shown} is compressed (method {method}); torch.save stores entries uncompressed"
            )));
        }
        let header = read(src, local, 30, &format!("local header of entry {shown}"))
            .map_err(|_| ZipProblem::Corrupt(format!("entry {shown} points outside the file")))?;
        if &header[..4] != LOCAL {
            return Err(ZipProblem::Corrupt(format!(
                "entry {shown} points at no local header"
            )));
        }
        let start = local + 30 + u16_at(&header, 26) + u16_at(&header, 28);
        if start.checked_add(size).is_none_or(|e| e > len) {
            return Err(ZipProblem::Corrupt(format!(
                "entry {shown} ({size} bytes at {start}) points outside the file"
            )));
        }
        out.push(Entry {
            name,
            offset: start as usize,
            len: size as usize,
        });
    }
    Ok(out)
}

/// Replaces the 0xffffffff placeholders by the zip64 extra field's values, in the order the
/// format fixes: size, compressed size, local header offset.
fn zip64_extra(mut extra: &[u8], size: &mut u64, csize: &mut u64, local: &mut u64) {
    while extra.len() >= 4 {
        let (id, n) = (u16_at(extra, 0), u16_at(extra, 2) as usize);
        let body = extra.get(4..4 + n).unwrap_or(&[]);
        if id == 1 {
            let mut at = 0;
            for field in [size, csize, local] {
                if *field == 0xffff_ffff && at + 8 <= body.len() {
                    *field = u64_at(body, at);
                    at += 8;
                }
            }
            return;
        }
        extra = extra.get(4 + n..).unwrap_or(&[]);
    }
}
