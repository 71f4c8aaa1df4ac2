//! Headless output: JSON and text for scripts and reports.

pub mod figure;
pub mod gnorm;
