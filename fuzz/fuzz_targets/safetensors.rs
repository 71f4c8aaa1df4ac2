//! safetensors: header, table selection, similarity. Must hold: what opens is what the
//! reference implementation (the `safetensors` crate) accepts too; every tensor's bytes are
//! `shape × dtype` long and read the same twice; the map is the same bits twice.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::tensor::SafetensorsStore;

fuzz_target!(|data: &[u8]| {
    let ours = SafetensorsStore::from_bytes("fuzz input", data.to_vec());
    let reference = safetensors::SafeTensors::deserialize(data);
    if let Ok(store) = &ours {
        if let Err(e) = &reference {
            panic!("opened a file the reference implementation refuses: {e}");
        }
        common::check_store(store);
    }
});
