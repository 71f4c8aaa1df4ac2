//! Figures checked as images: decoded size, and the circle pixels around each explosion's
//! peak (not byte equality: fonts and anti-aliasing may differ between versions).

use std::process::Command;
use trainwatch::export::figure::{explosion_pixels, EXPLOSION_RED};
use trainwatch::ingest::SourceSpec;
use trainwatch::run::read_once;

mod common;
use common::sample;

fn is_red(p: &image::Rgb<u8>) -> bool {
    let [r, g, b] = p.0;
    (r as i32 - EXPLOSION_RED.0 as i32).abs() < 40
        && (g as i32 - EXPLOSION_RED.1 as i32).abs() < 40
        && (b as i32 - EXPLOSION_RED.2 as i32).abs() < 40
}

#[test]
fn gnorm_png_circles_every_explosion() {
    let log = sample("megatron-104B-spikes-bigscience/iteration_lines.log");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("gnorm.png");
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(&log)
        .arg("--png")
        .arg(&png)
        .args(["--width", "1000", "--height", "500"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1000, 500));

    let model = read_once(&SourceSpec::new(&log)).unwrap();
    let peaks = explosion_pixels(&model, (1000, 500)).unwrap();
    assert_eq!(peaks.len(), 1);
    for (px, py) in peaks {
        // The circle has radius 14: red pixels on a ring around the peak, none needed inside.
        let mut ring = 0;
        for dy in -18i32..=18 {
            for dx in -18i32..=18 {
                let d2 = dx * dx + dy * dy;
                if !(10 * 10..=18 * 18).contains(&d2) {
                    continue;
                }
                let (x, y) = (px + dx, py + dy);
                if x >= 0
                    && y >= 0
                    && (x as u32) < 1000
                    && (y as u32) < 500
                    && is_red(img.get_pixel(x as u32, y as u32))
                {
                    ring += 1;
                }
            }
        }
        assert!(
            ring > 40,
            "no circle around the explosion at ({px}, {py}): {ring} red pixels"
        );
    }
    // And no red circle where there is no explosion: the left quarter holds none.
    let red_left = (0..250u32)
        .flat_map(|x| (60..440u32).map(move |y| (x, y)))
        .filter(|&(x, y)| is_red(img.get_pixel(x, y)))
        .count();
    assert!(red_left < 10, "{red_left} red pixels where no explosion is");
}

#[test]
fn gnorm_svg_is_annotated_and_titled() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("gnorm.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(sample(
            "megatron-104B-spikes-bigscience/iteration_lines.log",
        ))
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80]);
    assert!(text.contains("step 8741 · peak 3.274e6"));
    assert!(text.contains("iteration_lines.log"));
    assert!(text.contains("clip 1"));
    assert!(text.contains("log scale"), "3 decades and more: log y");
}

#[test]
fn unwritable_figure_path_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(sample("fairseq-legacy-docs/epoch_lines.log"))
        .args(["--png", "/nonexistent-dir/x.png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-dir/x.png"), "{err}");
}

#[test]
fn similarity_png_has_magma_colours_at_known_cells() {
    use trainwatch::checkpoint::{compute_similarity, SimilarityRequest};
    use trainwatch::colormap::MAGMA;
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("t.safetensors");
    // A generated table: smooth in the position, so the map has a real structure.
    std::fs::write(
        &st,
        common::safetensors_f32("wpe.weight", 40, 6, |r, c| {
            ((r as f32) * 0.15 * (c as f32 + 1.0)).sin() + 0.1 * c as f32
        }),
    )
    .unwrap();
    let report = compute_similarity(&SimilarityRequest {
        path: st.clone(),
        tensor: None,
        rows: None,
        blocks: 40,
        sinusoidal: None,
        read: trainwatch::checkpoint::ReadMode::Mapped,
    })
    .unwrap();
    let png = dir.path().join("sim.png");
    let geo = trainwatch::export::figure::similarity_figure(&report, &png).unwrap();
    assert_eq!(geo.blocks, 40, "every pair at full resolution");
    let img = image::open(&png).unwrap().to_rgb8();
    assert!(img.width() as i32 >= geo.x0 + geo.w && img.height() as i32 >= geo.y0 + geo.h);
    let (lo, hi) = report.map.colour_range();
    for (i, j) in [(0, 0), (0, 39), (5, 17), (20, 20), (39, 1), (33, 12)] {
        let v = report.map.matrix[[i, j]];
        let want = MAGMA[(((v - lo) / (hi - lo)) * 255.0).round() as usize];
        let (x, y) = geo.centre(i, j);
        assert_eq!(
            img.get_pixel(x as u32, y as u32).0,
            want,
            "cell ({i}, {j}) = {v}"
        );
    }

    // The same through the binary, with the size it reports.
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("similarity")
        .arg(&st)
        .arg("--png")
        .arg(dir.path().join("cli.png"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img2 = image::open(dir.path().join("cli.png")).unwrap().to_rgb8();
    assert_eq!(img2.dimensions(), img.dimensions());
}
