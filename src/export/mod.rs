//! Headless output: JSON, text and figures for scripts and reports.

pub mod figure;
pub mod gnorm;
pub mod similarity;
