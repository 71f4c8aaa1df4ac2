//! Helpers shared by the benchmark and soak examples (not an example itself).
#![allow(dead_code)] // each example uses a subset

pub mod cpu;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

/// The `trainwatch` binary built beside this example (`target/<profile>/trainwatch`), or
/// `$TRAINWATCH_BIN`. Exits with a hint when it is not built.
pub fn trainwatch_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TRAINWATCH_BIN") {
        return p.into();
    }
    let bin = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .and_then(Path::parent)
            .map(|p| p.join("trainwatch"))
    });
    match bin {
        Some(b) if b.exists() => b,
        _ => {
            eprintln!("build the binary first: cargo build --release");
            std::process::exit(2);
        }
    }
}

/// `cat FILE > /dev/null`: the baseline of the similarity benchmarks (and a page-cache warm-up).
pub fn cat(path: &Path) -> std::io::Result<()> {
    let status = std::process::Command::new("cat")
        .arg(path)
        .stdout(std::process::Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "cat {} failed",
            path.display()
        )))
    }
}

/// The fastest of `n` runs of `f`, in seconds (the least disturbed by a noisy machine).
pub fn best_of(n: usize, mut f: impl FnMut()) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The value after the command-line flag `name` (`--runs 5`), if given.
pub fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The number after the flag `name`, or `default` when it is missing or not a number.
pub fn num<T: FromStr>(args: &[String], name: &str, default: T) -> T {
    arg(args, name)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
