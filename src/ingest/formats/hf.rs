//! Hugging Face Trainer stdout: the dict `Trainer.log` prints, often on the same `\r` segment
//! as a tqdm frame. 4.x prints bare floats (`nan` too), 5.x quotes every value. No step is
//! printed: records are numbered by their index.

use super::{record_with, syntax::Sep, to_parsed, LineParser, Parsed};

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    static OPEN: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("{'"));
    let Some(open) = OPEN.find(line) else {
        return Parsed::Nothing;
    };
    let dict = &line[open..];
    // `step` is not printed by the Trainer; if a custom callback adds one, it is kept.
    to_parsed(record_with(p, dict, Sep::PyDict), false)
}
