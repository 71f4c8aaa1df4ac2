//! Hostile PyTorch files, hand-written: a REDUCE of `os.system` (and the other refused
//! names), a memo bomb, a deep nest, a storage bigger than its bytes, a compressed or
//! out-of-file zip entry, a missing memo key, a 10⁹-element `torch.Size`, a self-referencing
//! list, truncations. Each is an error naming the file (or a bounded, inert result), never a
//! hang, an allocation bomb, a panic or the execution of anything.

mod pytorch_common;

use std::time::Instant;

use pytorch_common::{f32_bytes, one_tensor_pickle, store, zip, P};
use trainwatch::tensor::pytorch::pickle::{unpickle, PickleError};
use trainwatch::tensor::{PytorchStore, StoreError, TensorStore};

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
