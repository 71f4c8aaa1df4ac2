//! `trainwatch check RUN…`: whether each run is within the bounds a CI job or a job script
//! sets, one line per run.

use super::{Instability, RunData};
use crate::text::printable;

/// The bounds (`None`: not checked).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub max_explosions: Option<usize>,
    pub max_nonfinite: Option<usize>,
    /// Percent of points above the clip threshold.
    pub max_clipped: Option<f64>,
}

/// One run's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub name: String,
    pub figures: Instability,
    /// What is out of bounds, in words; empty: within bounds.
    pub breaches: Vec<String>,
    /// A bound that could not be checked (no clip threshold known).
    pub unchecked: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.breaches.is_empty()
    }

    /// `ok    NAME  0 explosions · 0 non-finite · 0.0% above clip` or `FAIL  NAME  …: why`.
    pub fn line(&self) -> String {
        let f = &self.figures;
        let clipped = f.clipped_pct.map_or("clip unknown".to_string(), |p| {
            format!("{p:.1}% above clip")
        });
        let mut s = format!(
            "{}  {}  {} explosions · {} non-finite · {clipped}",
            if self.ok() { "ok  " } else { "FAIL" },
            printable(&self.name),
            f.explosions,
            f.nonfinite
        );
        if !self.ok() {
            s.push_str(&format!(": {}", self.breaches.join("; ")));
        }
        if !self.unchecked.is_empty() {
            s.push_str(&format!(" ({})", self.unchecked.join("; ")));
        }
        s
    }
}

/// Checks one run against `b`.
pub fn check(name: &str, data: &RunData, b: &Bounds) -> Verdict {
    let f = Instability::of(data);
    let mut breaches = Vec::new();
    let mut unchecked = Vec::new();
    if let Some(max) = b.max_explosions.filter(|m| f.explosions > *m) {
        breaches.push(format!(
            "{} explosions > --max-explosions {max}",
            f.explosions
        ));
    }
    if let Some(max) = b.max_nonfinite.filter(|m| f.nonfinite > *m) {
        breaches.push(format!(
            "{} non-finite values > --max-nonfinite {max}",
            f.nonfinite
        ));
    }
    if let Some(max) = b.max_clipped {
        match f.clipped_pct {
            Some(p) if p > max => {
                breaches.push(format!("{p:.1}% above clip > --max-clipped {max}"))
            }
            Some(_) => {}
            None => unchecked
                .push("--max-clipped not checked: no clip threshold known; give --clip X".into()),
        }
    }
    Verdict {
        name: name.to_string(),
        figures: f,
        breaches,
        unchecked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::SourceSpec;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples");

    #[test]
    fn bounds_name_what_is_out_of_them() {
        let wild = super::super::read_once(&SourceSpec::new(format!(
            "{SAMPLES}/megatron-104B-spikes-bigscience/iteration_lines.log"
        )))
        .unwrap();
        let b = Bounds {
            max_explosions: Some(0),
            max_nonfinite: Some(0),
            max_clipped: Some(50.0),
        };
        let v = check("spiky", &wild, &b);
        assert!(!v.ok());
        assert_eq!(v.breaches.len(), 2, "{v:?}");
        assert!(
            v.line().starts_with("FAIL  spiky  1 explosions"),
            "{}",
            v.line()
        );
        assert!(v.line().contains("> --max-explosions 0"));
        assert!(v.line().contains("100.0% above clip > --max-clipped 50"));
        let loose = Bounds {
            max_explosions: Some(1),
            max_nonfinite: None,
            max_clipped: None,
        };
        assert!(check("spiky", &wild, &loose).ok());
    }
}
