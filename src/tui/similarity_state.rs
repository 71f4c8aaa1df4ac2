//! Tab 2's state: the report on screen, what is being computed or failed, the cursor, the
//! zoom stack, the table picked and the checkpoint scrubber; and the view it asks the
//! checkpoint follower for.

use super::scrubber::Scrubber;
use crate::checkpoint::SimilarityReport;
use std::path::PathBuf;

/// Tab 2's state.
#[derive(Debug, Default)]
pub struct SimState {
    /// `--checkpoint`: a file, an index, or a run directory.
    pub path: Option<PathBuf>,
    pub report: Option<Box<SimilarityReport>>,
    /// Nothing loaded yet: why (no checkpoint written so far, …).
    pub waiting: Option<String>,
    /// A computation is under way (for this file).
    pub computing: Option<String>,
    /// The last failure, shown above the map that stays: (message, retrying).
    pub failure: Option<(String, bool)>,
    /// Cursor in block coordinates (row, column).
    pub cursor: (usize, usize),
    /// `r`: colours over a fixed [−1, 1] instead of the data's own range.
    pub fixed_range: bool,
    /// Zoom stack of row ranges; the last is shown (empty: all rows).
    pub zoom: Vec<(usize, usize)>,
    /// Table chosen with `t` (None: auto-detection's pick).
    pub tensor: Option<String>,
    /// `[`/`]`: the run's checkpoints and the one picked.
    pub scrub: Scrubber,
}

impl SimState {
    /// What the checkpoint follower should compute now, for a map of `blocks` blocks (see
    /// [`fit`](super::similarity_tab::fit)).
    pub fn view(&self, blocks: usize) -> crate::checkpoint::follow::View {
        crate::checkpoint::follow::View {
            checkpoint: self.scrub.pinned.clone(),
            tensor: self.tensor.clone(),
            rows: self.zoom.last().copied(),
            blocks: blocks.max(1),
        }
    }

    pub fn loaded(&mut self, r: Box<SimilarityReport>) {
        let b = r.map.blocks();
        self.cursor = (
            self.cursor.0.min(b.saturating_sub(1)),
            self.cursor.1.min(b.saturating_sub(1)),
        );
        self.tensor = Some(r.tensor_name.clone());
        self.report = Some(r);
        self.waiting = None;
        self.computing = None;
        self.failure = None;
    }

    /// The report on screen, now with its profile (the follower's second message): the
    /// cursor, zoom and everything else stay.
    pub fn profiled(&mut self, r: Box<SimilarityReport>) {
        self.loaded(r);
    }

    /// The map on screen waits for its profile.
    pub fn profile_pending(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.map.profile_pending)
    }

    pub fn move_cursor(&mut self, dr: isize, dc: isize) {
        let Some(r) = &self.report else { return };
        let b = r.map.blocks() as isize;
        let clamp = |v: isize| v.clamp(0, (b - 1).max(0)) as usize;
        self.cursor = (
            clamp(self.cursor.0 as isize + dr),
            clamp(self.cursor.1 as isize + dc),
        );
    }

    /// `+`: half the current position range, centred on the cursor.
    pub fn zoom_in(&mut self) {
        let Some(r) = &self.report else { return };
        let (lo, hi) = r.map.rows;
        let span = hi - lo;
        if span <= 2 {
            return;
        }
        let e = &r.map.edges;
        let (ci, cj) = self.cursor;
        let centre = (e[ci] + e[ci + 1] + e[cj] + e[cj + 1]) / 4;
        let half = (span / 4).max(1);
        let new_lo = centre.saturating_sub(half).max(lo);
        let new_hi = (new_lo + 2 * half).min(hi);
        let new_lo = new_hi.saturating_sub(2 * half).max(lo);
        self.zoom.push((new_lo, new_hi));
    }

    /// `-`: back to the previous range.
    pub fn zoom_out(&mut self) {
        self.zoom.pop();
    }

    /// The main file of the checkpoint on screen (to place it among the run's checkpoints).
    pub fn source(&self) -> Option<PathBuf> {
        self.report.as_ref().and_then(|r| r.source.clone())
    }

    /// `t`: the next candidate table.
    pub fn next_tensor(&mut self) {
        let Some(r) = &self.report else { return };
        if r.candidates.len() < 2 {
            return;
        }
        let next = r.selected.map_or(0, |i| (i + 1) % r.candidates.len());
        self.tensor = Some(r.candidates[next].name.clone());
        self.zoom.clear();
    }
}
