//! Builders for the PyTorch tests: pickle bytes opcode by opcode ([`P`]), stored zip
//! archives laid out as `torch.save` lays them out, and stores over them.

#![allow(dead_code)]

use trainwatch::tensor::{PytorchStore, StoreError};

/// Pickle bytes, opcode by opcode.
#[derive(Default, Clone)]
pub struct P(pub Vec<u8>);

impl P {
    pub fn proto(v: u8) -> Self {
        P(vec![0x80, v])
    }
    pub fn op(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn str(self, s: &str) -> Self {
        let n = (s.len() as u32).to_le_bytes();
        self.op(b"X").op(&n).op(s.as_bytes())
    }
    pub fn int(self, v: u8) -> Self {
        self.op(&[b'K', v])
    }
    pub fn global(self, module: &str, name: &str) -> Self {
        self.op(b"c")
            .op(module.as_bytes())
            .op(b"\n")
            .op(name.as_bytes())
            .op(b"\n")
    }
    /// `_rebuild_tensor_v2(storage(key, numel F32), offset, (size), (stride), False, OrderedDict())`.
    pub fn tensor(self, key: &str, numel: u8, offset: u8, size: &[u32], stride: &[u32]) -> Self {
        let mut p = self
            .global("torch._utils", "_rebuild_tensor_v2")
            .op(b"(")
            .op(b"(")
            .str("storage")
            .global("torch", "FloatStorage")
            .str(key)
            .str("cpu")
            .int(numel)
            .op(b"tQ")
            .int(offset)
            .op(b"(");
        for &d in size {
            p = p.op(b"J").op(&d.to_le_bytes());
        }
        p = p.op(b"t(");
        for &s in stride {
            p = p.op(b"J").op(&s.to_le_bytes());
        }
        p.op(b"t\x89")
            .global("collections", "OrderedDict")
            .op(b")R")
            .op(b"tR")
    }
    pub fn stop(self) -> Vec<u8> {
        self.op(b".").0
    }
}

/// A stored zip archive; `method`/`bad_offset` spoil the last entry.
pub fn zip(entries: &[(&str, &[u8])], method: u16, bad_offset: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (i, (name, body)) in entries.iter().enumerate() {
        let last = i + 1 == entries.len();
        let mut offset = out.len() as u32;
        let m = if last { method } else { 0 };
        let local = |o: &mut Vec<u8>| {
            o.extend(b"PK\x03\x04");
            o.extend([20, 0, 0, 0]);
            o.extend(m.to_le_bytes());
            o.extend([0u8; 8]); // time, date, crc
            o.extend((body.len() as u32).to_le_bytes());
            o.extend((body.len() as u32).to_le_bytes());
            o.extend((name.len() as u16).to_le_bytes());
            o.extend(0u16.to_le_bytes());
            o.extend(name.as_bytes());
            o.extend(*body);
        };
        local(&mut out);
        if last && bad_offset {
            offset = 0x7fff_0000;
        }
        central.extend(b"PK\x01\x02");
        central.extend([20, 0, 20, 0, 0, 0]);
        central.extend(m.to_le_bytes());
        central.extend([0u8; 8]);
        central.extend((body.len() as u32).to_le_bytes());
        central.extend((body.len() as u32).to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        central.extend([0u8; 12]); // extra, comment, disk, attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend([0u8; 2]);
    out
}

/// A `torch.save` image: `archive/data.pkl`, `archive/byteorder` and the storages.
pub fn archive(pkl: &[u8], storages: &[(&str, &[u8])]) -> Vec<u8> {
    let names: Vec<String> = storages
        .iter()
        .map(|(k, _)| format!("archive/data/{k}"))
        .collect();
    let mut entries: Vec<(&str, &[u8])> =
        vec![("archive/data.pkl", pkl), ("archive/byteorder", b"little")];
    for (n, (_, body)) in names.iter().zip(storages) {
        entries.push((n.as_str(), body));
    }
    zip(&entries, 0, false)
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn store(pkl: &[u8], storages: &[(&str, &[u8])]) -> Result<PytorchStore, StoreError> {
    PytorchStore::from_bytes("mem.pt", archive(pkl, storages))
}

/// `{"w": <2×2 F32 tensor of storage 0>}`.
pub fn one_tensor_pickle() -> Vec<u8> {
    P::proto(2)
        .op(b"}(")
        .str("w")
        .tensor("0", 4, 0, &[2, 2], &[2, 1])
        .op(b"u")
        .stop()
}
