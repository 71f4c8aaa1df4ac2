//! Headless output: JSON and text for scripts and reports.

pub mod gnorm;
