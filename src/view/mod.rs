//! The x-axis in steps, shared by every chart panel (and, later, every run): where each point
//! of a series sits on it ([`StepAxis`]), and which part of it is in view ([`XWindow`]).
//!
//! A restart (the step going back, or the log replaced) starts a new segment; segments are
//! laid end to end, each one typical step spacing after the previous, so a run whose steps are
//! evenly spaced looks exactly as if it were indexed by point, and the restart marker stays
//! where the new run begins.

pub mod axis;
pub mod window;

pub use axis::{Segment, StepAxis};
pub use window::{Span, XWindow};
