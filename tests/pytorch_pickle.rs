//! The pickle VM and the PyTorch store against hand-written bytes: each opcode family, and
//! each hostile case (a REDUCE of `os.system`, a memo bomb, a deep nest, a storage bigger
//! than the file, a compressed or out-of-file zip entry, a missing memo key, a 10⁹-element
//! `torch.Size`, a self-referencing list). The pickles are what `pickle.dumps` would write
//! for these objects (protocols 0–5), spelled out opcode by opcode; the zip images are
//! stored archives laid out as `torch.save` lays them out.

use std::time::Instant;

use trainwatch::tensor::pytorch::pickle::{unpickle, PickleError};
use trainwatch::tensor::pytorch::value::{Heap, Value};
use trainwatch::tensor::{PytorchStore, StoreError, TensorStore};

// ---- builders --------------------------------------------------------------------------------

/// Pickle bytes, opcode by opcode.
#[derive(Default, Clone)]
struct P(Vec<u8>);

impl P {
    fn proto(v: u8) -> Self {
        P(vec![0x80, v])
    }
    fn op(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    fn str(self, s: &str) -> Self {
        let n = (s.len() as u32).to_le_bytes();
        self.op(b"X").op(&n).op(s.as_bytes())
    }
    fn int(self, v: u8) -> Self {
        self.op(&[b'K', v])
    }
    fn global(self, module: &str, name: &str) -> Self {
        self.op(b"c")
            .op(module.as_bytes())
            .op(b"\n")
            .op(name.as_bytes())
            .op(b"\n")
    }
    /// `_rebuild_tensor_v2(storage(key, numel F32), offset, (size), (stride), False, OrderedDict())`.
    fn tensor(self, key: &str, numel: u8, offset: u8, size: &[u32], stride: &[u32]) -> Self {
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
    fn stop(self) -> Vec<u8> {
        self.op(b".").0
    }
}

/// A stored zip archive; `method`/`bad_offset` spoil the last entry.
fn zip(entries: &[(&str, &[u8])], method: u16, bad_offset: bool) -> Vec<u8> {
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
fn archive(pkl: &[u8], storages: &[(&str, &[u8])]) -> Vec<u8> {
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

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn store(pkl: &[u8], storages: &[(&str, &[u8])]) -> Result<PytorchStore, StoreError> {
    PytorchStore::from_bytes("mem.pt", archive(pkl, storages))
}

/// `{"w": <2×2 F32 tensor of storage 0>}`.
fn one_tensor_pickle() -> Vec<u8> {
    P::proto(2)
        .op(b"}(")
        .str("w")
        .tensor("0", 4, 0, &[2, 2], &[2, 1])
        .op(b"u")
        .stop()
}

// ---- opcode families -------------------------------------------------------------------------

fn root(bytes: &[u8]) -> (trainwatch::tensor::pytorch::value::Arena, Value) {
    let u = unpickle(bytes, 0).unwrap();
    (u.arena, u.root)
}

#[test]
fn scalars_of_every_width() {
    // (None, True, False, 7, 300, 70000, -2 (LONG1), 1.5 (BINFLOAT), True (INT 01), 2.25, 5 (INT))
    let p = P::proto(2)
        .op(b"(N\x88\x89")
        .int(7)
        .op(b"M\x2c\x01")
        .op(b"J\x70\x11\x01\x00")
        .op(b"\x8a\x01\xfe")
        .op(b"G\x3f\xf8\x00\x00\x00\x00\x00\x00")
        .op(b"I01\nF2.25\nI5\nt")
        .stop();
    let (a, r) = root(&p);
    let items = a.seq(r).unwrap();
    assert_eq!(
        items,
        [
            Value::None,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(7),
            Value::Int(300),
            Value::Int(70000),
            Value::Int(-2),
            Value::Float(1.5),
            Value::Bool(true),
            Value::Float(2.25),
            Value::Int(5),
        ]
    );
    // A LONG1 beyond 64 bits (the legacy magic number) is kept as bytes.
    let big = P::proto(2)
        .op(b"\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09")
        .stop();
    let (a, r) = root(&big);
    assert!(matches!(a.get(r), Some(Heap::BigInt(b)) if b.len() == 9));
}

#[test]
fn strings_and_bytes_of_every_opcode() {
    let p = P::proto(4)
        .op(b"(")
        .op(b"\x8c\x02ab")
        .str("cd")
        .op(b"\x8d\x02\x00\x00\x00\x00\x00\x00\x00ef")
        .op(b"U\x02gh")
        .op(b"T\x02\x00\x00\x00ij")
        .op(b"S'kl'\n")
        .op(b"Vmn\n")
        .op(b"C\x02\x00\x01")
        .op(b"B\x01\x00\x00\x00\x02")
        .op(b"\x8e\x01\x00\x00\x00\x00\x00\x00\x00\x03")
        .op(b"t")
        .stop();
    let (a, r) = root(&p);
    let items = a.seq(r).unwrap().to_vec();
    let texts: Vec<&str> = items[..7].iter().map(|v| a.str(*v).unwrap()).collect();
    assert_eq!(texts, ["ab", "cd", "ef", "gh", "ij", "kl", "mn"]);
    let bytes: Vec<&Heap> = items[7..].iter().map(|v| a.get(*v).unwrap()).collect();
    assert_eq!(
        bytes,
        [
            &Heap::Bytes(vec![0, 1]),
            &Heap::Bytes(vec![2]),
            &Heap::Bytes(vec![3])
        ]
    );
    // Protocol 5's BYTEARRAY8.
    let p = P::proto(5)
        .op(b"\x96\x01\x00\x00\x00\x00\x00\x00\x00\x09")
        .stop();
    let (a, r) = root(&p);
    assert_eq!(a.get(r), Some(&Heap::Bytes(vec![9])));
}

#[test]
fn lists_tuples_dicts_and_sets() {
    // [[1, 2], (3,), (4, 5), (6, 7, 8), (), {"k": 9, "l": 10}, {"m": 11}, {12}, frozenset({13})]
    let p = P::proto(2)
        .op(b"]")
        .op(b"(")
        .op(b"(")
        .int(1)
        .int(2)
        .op(b"l")
        .int(3)
        .op(b"\x85")
        .int(4)
        .int(5)
        .op(b"\x86")
        .int(6)
        .int(7)
        .int(8)
        .op(b"\x87)")
        .op(b"}(")
        .str("k")
        .int(9)
        .str("l")
        .int(10)
        .op(b"u")
        .op(b"(")
        .str("m")
        .int(11)
        .op(b"d")
        .op(b"\x8f(")
        .int(12)
        .op(b"\x90")
        .op(b"(")
        .int(13)
        .op(b"\x91")
        .op(b"e")
        .stop();
    let (a, r) = root(&p);
    let items = a.seq(r).unwrap().to_vec();
    assert_eq!(items.len(), 9);
    assert_eq!(a.seq(items[0]).unwrap(), [Value::Int(1), Value::Int(2)]);
    assert_eq!(a.seq(items[3]).unwrap().len(), 3);
    assert_eq!(a.seq(items[4]).unwrap().len(), 0);
    assert_eq!(a.field(items[5], "l"), Some(Value::Int(10)));
    assert_eq!(a.field(items[6], "m"), Some(Value::Int(11)));
    assert_eq!(a.get(items[7]), Some(&Heap::Set(vec![Value::Int(12)])));
    assert_eq!(a.get(items[8]), Some(&Heap::Set(vec![Value::Int(13)])));
    // SETITEM and APPEND one at a time.
    let p = P::proto(2)
        .op(b"}")
        .str("x")
        .op(b"]")
        .int(1)
        .op(b"as")
        .stop();
    let (a, r) = root(&p);
    let x = a.field(r, "x").unwrap();
    assert_eq!(a.seq(x).unwrap(), [Value::Int(1)]);
}

#[test]
fn memo_stack_and_framing_opcodes() {
    // FRAME, MEMOIZE, BINPUT/BINGET, LONG_BINPUT/LONG_BINGET, PUT/GET, DUP, POP, POP_MARK.
    let p = P::proto(4)
        .op(b"\x95\x20\x00\x00\x00\x00\x00\x00\x00")
        .op(b"(")
        .str("a")
        .op(b"\x94") // memo 0
        .str("b")
        .op(b"q\x05")
        .str("c")
        .op(b"r\x00\x00\x01\x00")
        .str("d")
        .op(b"p7\n")
        .op(b"0") // drop "d"
        .op(b"(")
        .int(99)
        .op(b"1") // POP_MARK drops 99
        .op(b"h\x00h\x05j\x00\x00\x01\x00g7\n2")
        .op(b"t")
        .stop();
    let (a, r) = root(&p);
    let texts: Vec<&str> = a
        .seq(r)
        .unwrap()
        .iter()
        .map(|v| a.str(*v).unwrap())
        .collect();
    assert_eq!(texts, ["a", "b", "c", "a", "b", "c", "d", "d"]);
}

#[test]
fn allowed_globals_are_applied_as_data() {
    // STACK_GLOBAL collections.OrderedDict() then SETITEMS and a BUILD of `_metadata`, as
    // `state_dict()` pickles; torch.Size((3, 4)); set([1]); _codecs.encode('\xff', 'latin1').
    let p = P::proto(4)
        .op(b"(")
        .str("collections")
        .str("OrderedDict")
        .op(b"\x93)R(")
        .str("k")
        .int(1)
        .op(b"u}")
        .op(b"b")
        .global("torch", "Size")
        .op(b"(")
        .int(3)
        .int(4)
        .op(b"t\x85R")
        .global("builtins", "set")
        .op(b"]")
        .int(1)
        .op(b"a\x85R")
        .global("_codecs", "encode")
        .str("\u{ff}")
        .str("latin1")
        .op(b"\x86R")
        .op(b"t")
        .stop();
    let (a, r) = root(&p);
    let items = a.seq(r).unwrap().to_vec();
    assert_eq!(a.field(items[0], "k"), Some(Value::Int(1)));
    assert_eq!(a.seq(items[1]).unwrap(), [Value::Int(3), Value::Int(4)]);
    assert_eq!(a.get(items[2]), Some(&Heap::Set(vec![Value::Int(1)])));
    assert_eq!(a.get(items[3]), Some(&Heap::Bytes(vec![0xff])));
}

#[test]
fn unknown_classes_become_inert_objects_that_keep_their_state() {
    // argparse.Namespace(max_source_positions=9) as pickled: REDUCE of the class with (),
    // then BUILD with its __dict__; NEWOBJ, NEWOBJ_EX, OBJ and INST of others; calling an
    // inert object gives another inert one.
    let p = P::proto(4)
        .op(b"(")
        .global("argparse", "Namespace")
        .op(b")R}")
        .str("max_source_positions")
        .int(9)
        .op(b"sb")
        .global("omegaconf.dictconfig", "DictConfig")
        .op(b")\x81")
        .global("lightning.fabric.utilities.data", "AttributeDict")
        .op(b")}\x92")
        .op(b"(")
        .global("numpy", "dtype")
        .str("f8")
        .op(b"o")
        .op(b"(")
        .str("x")
        .op(b"inumpy.core.multiarray\nscalar\n")
        .global("argparse", "Namespace")
        .op(b")R)R")
        .op(b"t")
        .stop();
    let (a, r) = root(&p);
    let items = a.seq(r).unwrap().to_vec();
    assert_eq!(items.len(), 6);
    assert!(
        matches!(a.get(items[0]), Some(Heap::Object { class, .. }) if class == "argparse.Namespace")
    );
    assert_eq!(
        a.field(items[0], "max_source_positions"),
        Some(Value::Int(9))
    );
    for v in &items[1..] {
        assert!(
            matches!(a.get(*v), Some(Heap::Object { .. })),
            "{:?}",
            a.get(*v)
        );
    }
}

#[test]
fn a_tensor_beside_an_inert_namespace_still_loads() {
    let p = P::proto(2)
        .op(b"}(")
        .str("args")
        .global("argparse", "Namespace")
        .op(b")R}")
        .str("arch")
        .str("transformer")
        .op(b"sb")
        .str("model")
        .op(b"}(")
        .str("embed_positions.weight")
        .tensor("0", 4, 0, &[2, 2], &[2, 1])
        .op(b"uu")
        .stop();
    let s = store(&p, &[("0", &f32_bytes(&[1.0, 2.0, 3.0, 4.0]))]).unwrap();
    let t = s.tensor("embed_positions.weight").unwrap();
    assert_eq!(
        &*s.tensor_bytes(t).unwrap(),
        f32_bytes(&[1.0, 2.0, 3.0, 4.0])
    );
}

#[test]
fn a_transposed_view_is_gathered_in_row_major_order() {
    let p = P::proto(2)
        .op(b"}(")
        .str("w")
        .tensor("0", 6, 0, &[3, 2], &[1, 3])
        .op(b"u")
        .stop();
    let s = store(&p, &[("0", &f32_bytes(&[0., 1., 2., 3., 4., 5.]))]).unwrap();
    let t = s.tensor("w").unwrap();
    assert_eq!(
        &*s.tensor_bytes(t).unwrap(),
        f32_bytes(&[0., 3., 1., 4., 2., 5.])
    );
}

// ---- hostile files ---------------------------------------------------------------------------

fn refused_by(module: &str, name: &str) {
    // The classic payload: GLOBAL, argument tuple, REDUCE.
    let p = P::proto(2)
        .global(module, name)
        .str("touch /tmp/pwned")
        .op(b"\x85R")
        .stop();
    let e = unpickle(&p, 0).unwrap_err();
    assert_eq!(
        e,
        PickleError::Refused(format!("the pickle calls {module}.{name}"))
    );
    let msg = store(&p, &[]).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("refused: the pickle calls {module}.{name}"))
            && msg.starts_with("mem.pt: "),
        "{msg}"
    );
}

#[test]
fn code_running_globals_are_refused_by_name() {
    for (m, n) in [
        ("os", "system"),
        ("posix", "system"),
        ("nt", "system"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("__builtin__", "eval"),
        ("subprocess", "Popen"),
        ("os.path", "join"),
        ("builtins", "getattr"),
    ] {
        refused_by(m, n);
    }
    // STACK_GLOBAL spells it from strings; still refused.
    let p = P::proto(4)
        .str("subprocess")
        .str("check_output")
        .op(b"\x93")
        .stop();
    assert!(
        matches!(unpickle(&p, 0), Err(PickleError::Refused(r)) if r.contains("subprocess.check_output"))
    );
}

#[test]
fn a_memo_bomb_is_cheap_and_bounded() {
    // "Billion laughs": each level a list of ten references to the level below, 40 levels.
    let mut p = P::proto(2).op(b"]q\x00");
    for level in 0..40u32 {
        p = p.op(b"(");
        for _ in 0..10 {
            p = p.op(b"j").op(&level.to_le_bytes());
        }
        p = p.op(b"lr").op(&(level + 1).to_le_bytes());
    }
    let p = p
        .op(b"0}")
        .str("laughs")
        .op(b"j")
        .op(&40u32.to_le_bytes())
        .op(b"s")
        .stop();
    let started = Instant::now();
    let s = store(&p, &[]).unwrap();
    assert!(s.tensors().is_empty());
    assert!(started.elapsed().as_secs() < 2);
    // Memo keys far apart cost nothing.
    let p = P::proto(2)
        .op(b"Nr\xff\xff\xff\xffj\xff\xff\xff\xff")
        .stop();
    assert!(unpickle(&p, 0).is_ok());
}

#[test]
fn a_memo_reference_to_a_missing_key_is_an_error() {
    let p = P::proto(2).op(b"h\x05").stop();
    assert_eq!(
        unpickle(&p, 0).unwrap_err(),
        PickleError::Corrupt("the pickle refers to memo entry 5, which was never stored".into())
    );
}

#[test]
fn a_deep_nest_does_not_overflow_the_stack() {
    // 200 000 nested lists (each appended to its parent): no recursion in the VM, a depth
    // limit in the walk.
    let depth = 200_000;
    let mut p = P::proto(2).op(b"}").str("deep");
    for _ in 0..depth {
        p = p.op(b"]");
    }
    for _ in 1..depth {
        p = p.op(b"a");
    }
    let p = p.op(b"s").stop();
    let s = store(&p, &[]).unwrap();
    assert!(s.tensors().is_empty());
    // 200 000 MARKs: bounded by the input, then an error at the end, not a hang.
    let mut marks = P::proto(2);
    for _ in 0..depth {
        marks = marks.op(b"(");
    }
    assert!(unpickle(&marks.stop(), 0).is_err());
}

#[test]
fn a_self_referencing_list_ends() {
    // l = []; l.append(l); {"l": l, "w": tensor}
    let p = P::proto(2)
        .op(b"}(")
        .str("l")
        .op(b"]q\x00h\x00a")
        .str("w")
        .tensor("0", 4, 0, &[2, 2], &[2, 1])
        .op(b"u")
        .stop();
    let s = store(&p, &[("0", &f32_bytes(&[0.; 4]))]).unwrap();
    let names: Vec<&str> = s.tensors().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["w"]);
    // An object whose state is itself: metadata lookups end too.
    let p = P::proto(2)
        .op(b"}(")
        .str("args")
        .global("argparse", "Namespace")
        .op(b")Rq\x01h\x01b")
        .str("w")
        .tensor("0", 4, 0, &[2, 2], &[2, 1])
        .op(b"u")
        .stop();
    let s = store(&p, &[("0", &f32_bytes(&[0.; 4]))]).unwrap();
    assert_eq!(s.meta().max_source_positions, None);
}

#[test]
fn a_storage_bigger_than_its_bytes_is_an_error() {
    // The persistent id claims 200 floats; the entry holds 4.
    let p = P::proto(2)
        .op(b"}(")
        .str("w")
        .tensor("0", 200, 0, &[2, 2], &[2, 1])
        .op(b"u")
        .stop();
    let e = store(&p, &[("0", &f32_bytes(&[0.; 4]))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("storage 0 claims 200 elements"), "{e}");
    // A storage that is not in the archive at all.
    let e = store(&one_tensor_pickle(), &[]).unwrap_err().to_string();
    assert!(e.contains("not in the file"), "{e}");
}

#[test]
fn a_billion_element_size_is_an_error_not_an_allocation() {
    // torch.Size((10⁹,)) over a 4-element storage; then the same with stride 0 (an expand).
    for stride in [1u32, 0] {
        let p = P::proto(2)
            .op(b"}(")
            .str("w")
            .tensor("0", 4, 0, &[1_000_000_000], &[stride])
            .op(b"u")
            .stop();
        let e = store(&p, &[("0", &f32_bytes(&[0.; 4]))])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("mem.pt: ") && e.contains("tensor w"), "{e}");
    }
}

#[test]
fn a_compressed_entry_or_one_outside_the_file_is_named() {
    let pkl = one_tensor_pickle();
    let data = f32_bytes(&[0.; 4]);
    let entries: [(&str, &[u8]); 2] = [("archive/data.pkl", &pkl), ("archive/data/0", &data)];
    let e = PytorchStore::from_bytes("z.pt", zip(&entries, 8, false))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("z.pt") && e.contains("entry archive/data/0 is compressed"),
        "{e}"
    );
    let e = PytorchStore::from_bytes("z.pt", zip(&entries, 0, true))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("entry archive/data/0") && e.contains("outside the file"),
        "{e}"
    );
    // The archive itself, cut short: no end record.
    let whole = zip(&entries, 0, false);
    let e = PytorchStore::from_bytes("z.pt", whole[..whole.len() - 30].to_vec()).unwrap_err();
    assert!(matches!(e, StoreError::Incomplete { .. }), "{e}");
}

#[test]
fn truncated_and_unknown_opcodes_are_errors() {
    let full = one_tensor_pickle();
    for cut in 0..full.len() {
        assert!(unpickle(&full[..cut], 0).is_err(), "cut at {cut}");
    }
    assert!(
        matches!(unpickle(b"\x80\x02\xff.", 0), Err(PickleError::Corrupt(r)) if r.contains("0xff"))
    );
    assert!(unpickle(b"\x80\x06N.", 0).is_err(), "protocol 6");
    assert!(unpickle(b"\x80\x02\x82\x01.", 0).is_err(), "EXT1");
}

#[test]
fn an_archive_without_data_pkl_or_a_random_file_is_named() {
    let e = PytorchStore::from_bytes("x.bin", zip(&[("a/other", b"1")], 0, false))
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.bin") && e.contains("no data.pkl"), "{e}");
    let e = PytorchStore::from_bytes("x.bin", b"\x80\x02}q\x00.".to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("neither a torch.save zip archive nor a legacy"),
        "{e}"
    );
}
