//! The pickle VM's input: bounds-checked reads of fixed-width fields, lengths (never past
//! the end of the input, so nothing is allocated from a claim alone) and text lines.

use super::pickle::PickleError;

pub(super) struct Input<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl Input<'_> {
    pub fn take(&mut self, n: usize) -> Result<&[u8], PickleError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or("the pickle ends in the middle of an opcode")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn uint(&mut self, n: usize) -> Result<u64, PickleError> {
        let b = self.take(n)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    pub fn len(&mut self, n: usize) -> Result<usize, PickleError> {
        let v = self.uint(n)?;
        usize::try_from(v)
            .ok()
            .filter(|&l| l <= self.data.len() - self.pos)
            .ok_or_else(|| format!("a length of {v} bytes runs past the end of the pickle").into())
    }

    pub fn line(&mut self) -> Result<&[u8], PickleError> {
        let rest = &self.data[self.pos..];
        let n = memchr::memchr(b'\n', rest).ok_or("a text opcode has no end of line")?;
        let s = &rest[..n];
        self.pos += n + 1;
        Ok(s)
    }

    pub fn line_str(&mut self) -> Result<String, PickleError> {
        Ok(String::from_utf8_lossy(self.line()?).into_owned())
    }
}
