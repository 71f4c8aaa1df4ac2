//! Every text format's parser, format detection, clip declarations and the decoder end to end.
//! Must hold: the decoder reads the same records whatever way the bytes arrive; it reads no
//! more records than lines; reading twice gives the same bits; the run model takes the batch
//! (series, explosion events) without panicking.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use trainwatch::ingest::decoder::LogDecoder;
use trainwatch::ingest::formats::{clip::clip_declaration, detect, LineParser, Parsed};
use trainwatch::ingest::follow::IngestEvent;
use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};

fn decode(metric: &MetricSpec, parts: &[&[u8]]) -> common::Summary {
    let mut d = LogDecoder::new(metric.clone(), None);
    let mut s = common::Summary::default();
    for p in parts {
        d.feed(p);
        // A live follower takes what is there after each read.
        s.add(&d.take_batch());
    }
    d.finish();
    s.add(&d.take_batch());
    s
}

/// Every format's parser for the gradient norm and for the loss, built once.
fn parsers() -> &'static [(MetricSpec, Vec<(LogFormat, LineParser)>)] {
    static P: OnceLock<Vec<(MetricSpec, Vec<(LogFormat, LineParser)>)>> = OnceLock::new();
    P.get_or_init(|| {
        [MetricSpec::gnorm(), MetricSpec::named("loss")]
            .into_iter()
            .map(|spec| {
                let ps = LogFormat::ALL
                    .into_iter()
                    .map(|f| (f, LineParser::new(f, spec.clone())))
                    .collect();
                (spec, ps)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for line in data.split(|b| *b == b'\n').take(64) {
        for (spec, ps) in parsers() {
            let _ = detect(line, spec);
            let _ = spec.may_match(line);
            for (f, p) in ps {
                let a = p.parse(line);
                if let Parsed::Step(r) | Parsed::Aggregate(r) = &a {
                    // The parser is a function of the line.
                    let b = p.parse(line);
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{f:?}");
                    let _ = r.value();
                }
                let _ = p.has_clip_field(line);
            }
        }
        if let Some(c) = clip_declaration(line) {
            assert!(!c.is_nan(), "a NaN clip threshold");
        }
    }

    let gnorm = MetricSpec::gnorm();
    let whole = decode(&gnorm, &[data]);
    let again = decode(&gnorm, &[data]);
    assert_eq!(whole, again, "decoding twice");
    let cut = decode(&gnorm, &common::pieces_at_most(data, 24));
    assert_eq!(whole, cut, "records depend on how the bytes arrived");
    let lines = data.split(|b| *b == b'\n' || *b == b'\r').count();
    assert!(whole.steps.len() + whole.aggregates.len() <= lines);

    let mut d = LogDecoder::new(gnorm, None);
    d.feed(data);
    d.finish();
    let mut model = trainwatch::run::RunData::empty(&SourceSpec::new("fuzz"));
    model.apply(IngestEvent::Batch(d.take_batch()));
    assert!(model.primary().len() <= whole.steps.len() + whole.aggregates.len());
    let _ = model.primary().events();
});
