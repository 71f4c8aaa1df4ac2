//! PyTorch checkpoints (zip archives and legacy pickles), read without running them. Must
//! hold: no input runs code, hangs or allocates beyond its size (libFuzzer's -timeout and
//! -rss_limit_mb); what opens reads the same twice; every tensor's bytes are `shape × dtype`
//! long; the map is the same bits twice.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::tensor::PytorchStore;

fuzz_target!(|data: &[u8]| {
    let a = PytorchStore::from_bytes("fuzz input", data.to_vec());
    let b = PytorchStore::from_bytes("fuzz input", data.to_vec());
    match (&a, &b) {
        (Ok(x), Ok(y)) => {
            use trainwatch::tensor::TensorStore;
            assert_eq!(x.tensors(), y.tensors(), "opening twice differs");
            common::check_store(x);
        }
        (Err(x), Err(y)) => {
            let (x, y) = (x.to_string(), y.to_string());
            assert_eq!(x, y);
            assert!(!x.chars().any(|c| c.is_control() && c != '\n'), "{x:?}");
        }
        _ => panic!("opening twice disagrees"),
    }
});
