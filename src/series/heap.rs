//! What a series holds on the heap, part by part (the memory accounting of sweeps).

/// Heap bytes of a series' parts ([`Series::heap_bytes`](super::Series::heap_bytes)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapBytes {
    pub steps: usize,
    pub values: usize,
    pub losses: usize,
    pub flags: usize,
    pub pyramid: usize,
    /// Restarts and explosion events.
    pub other: usize,
}

impl HeapBytes {
    pub fn total(&self) -> usize {
        self.steps + self.values + self.losses + self.flags + self.pyramid + self.other
    }

    /// The sum, part by part.
    pub fn add(&mut self, o: &HeapBytes) {
        self.steps += o.steps;
        self.values += o.values;
        self.losses += o.losses;
        self.flags += o.flags;
        self.pyramid += o.pyramid;
        self.other += o.other;
    }
}
