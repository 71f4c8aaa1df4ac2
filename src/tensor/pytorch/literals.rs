//! The pickle VM's literals: integers, floats, strings and bytes of every width and
//! protocol. Lengths are checked against the input before anything is copied.

use super::pickle::{PickleError, Step, Vm};
use super::value::{Heap, Value};

/// Opcodes that push one literal read from the input.
pub(super) fn is_literal(op: u8) -> bool {
    matches!(
        op,
        b'I' | b'J'
            | b'K'
            | b'M'
            | b'L'
            | 0x8a
            | 0x8b
            | b'F'
            | b'G'
            | b'S'
            | b'V'
            | b'T'
            | b'U'
            | b'X'
            | 0x8c
            | 0x8d
            | b'B'
            | b'C'
            | 0x8e
            | 0x96
    )
}

impl Vm<'_> {
    /// Runs the literal opcode `op` (see [`is_literal`]).
    pub(super) fn literal(&mut self, op: u8) -> Step {
        match op {
            b'I' => {
                let l = self.input.line_str()?;
                let v = match l.as_str() {
                    "00" => Value::Bool(false),
                    "01" => Value::Bool(true),
                    s => Value::Int(s.trim().parse().map_err(|_| "a bad INT")?),
                };
                self.push(v)
            }
            b'J' => {
                let b = self.input.take(4)?;
                let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                self.push(Value::Int(i64::from(v)))
            }
            b'K' => {
                let v = self.input.uint(1)?;
                self.push(Value::Int(v as i64))
            }
            b'M' => {
                let v = self.input.uint(2)?;
                self.push(Value::Int(v as i64))
            }
            b'L' => {
                let l = self.input.line_str()?;
                match l.trim_end_matches('L').parse::<i64>() {
                    Ok(v) => self.push(Value::Int(v)),
                    Err(_) => self.alloc(Heap::BigInt(l.into_bytes())),
                }
            }
            0x8a | 0x8b => {
                let n = if op == 0x8a { 1 } else { 4 };
                let n = self.input.len(n)?;
                let b = self.input.take(n)?.to_vec();
                self.int_bytes(b)
            }
            b'F' => {
                let l = self.input.line_str()?;
                self.push(Value::Float(l.trim().parse().map_err(|_| "a bad FLOAT")?))
            }
            b'G' => {
                let b = self.input.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                self.push(Value::Float(f64::from_be_bytes(a)))
            }
            b'S' => {
                let l = self.input.line()?;
                let inner = l.get(1..l.len().saturating_sub(1)).unwrap_or(&[]).to_vec();
                self.text(inner)
            }
            b'V' => {
                let l = self.input.line()?.to_vec();
                self.text(l)
            }
            b'T' | b'U' | b'X' | 0x8c | 0x8d | b'B' | b'C' | 0x8e | 0x96 => {
                let n = match op {
                    b'U' | 0x8c | b'C' => 1,
                    b'T' | b'X' | b'B' => 4,
                    _ => 8,
                };
                let n = self.input.len(n)?;
                let b = self.input.take(n)?.to_vec();
                match op {
                    b'B' | b'C' | 0x8e | 0x96 => self.alloc(Heap::Bytes(b)),
                    _ => self.text(b),
                }
            }
            _ => Err(PickleError::Corrupt(format!("0x{op:02x} is not a literal"))),
        }
    }

    fn text(&mut self, bytes: Vec<u8>) -> Step {
        match String::from_utf8(bytes) {
            Ok(s) => self.alloc(Heap::Str(s)),
            Err(e) => self.alloc(Heap::Bytes(e.into_bytes())),
        }
    }

    fn int_bytes(&mut self, bytes: Vec<u8>) -> Step {
        if bytes.len() <= 8 {
            let fill = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                0xff
            } else {
                0
            };
            let mut full = [fill; 8];
            full[..bytes.len()].copy_from_slice(&bytes);
            self.push(Value::Int(i64::from_le_bytes(full)))
        } else {
            self.alloc(Heap::BigInt(bytes))
        }
    }
}
