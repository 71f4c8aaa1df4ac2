//! The pickle VM and the PyTorch store against hand-written bytes, one test per opcode
//! family (protocols 0–5): what `pickle.dumps` would write for these objects, spelled out
//! opcode by opcode (builders in `pytorch_common`). Hostile inputs: `pytorch_hostile.rs`.

mod pytorch_common;

use pytorch_common::{f32_bytes, store, P};
use trainwatch::tensor::pytorch::pickle::unpickle;
use trainwatch::tensor::pytorch::value::{Arena, Heap, Value};
use trainwatch::tensor::TensorStore;

fn root(bytes: &[u8]) -> (Arena, Value) {
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
