//! Tab 2: the positional-embedding similarity heatmap.

use super::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Widget, Wrap};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    Paragraph::new(
        "No checkpoint to show.\n\nStart trainwatch with --checkpoint PATH (a .safetensors file, a sharded \
         model.safetensors.index.json, or a run directory with checkpoint-<step>/ folders) to see the \
         cosine similarity of the learned position embeddings here.",
    )
    .wrap(Wrap { trim: false })
    .style(app.theme.dim)
    .render(area, buf);
}
