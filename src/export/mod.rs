//! Headless output: JSON, text and figures for scripts and reports.

#[cfg(feature = "tui")]
pub mod figure;
pub mod gnorm;
pub mod similarity;
