//! Line-level tests on fixtures of the exact shapes frameworks print where no real file is in
//! `../shared/samples/` (HF Trainer stdout 4.x/5.x, torchtitan, tqdm postfix, JSON lines); the
//! real files are tested end to end in `tests/formats_real.rs`.

use super::*;

fn gnorm() -> MetricSpec {
    MetricSpec::gnorm()
}

fn step(p: Parsed) -> MetricRecord {
    match p {
        Parsed::Step(r) => r,
        other => panic!("expected a step record, got {other:?}"),
    }
}

#[test]
fn hf_trainer_4x_bare_floats_and_nan() {
    // transformers 4.x `Trainer.log` → print(output): a dict repr after a tqdm frame.
    let line = b" 16%|\xe2\x96\x88\xe2\x96\x8c        | 80/500 [00:21<01:52,  3.74it/s]{'loss': 1.702, 'grad_norm': 2.87, 'learning_rate': 2e-05, 'epoch': 0.16}";
    assert_eq!(detect(line, &gnorm()), Some(LogFormat::HfTrainer));
    let p = LineParser::new(LogFormat::HfTrainer, gnorm());
    let r = step(p.parse(line));
    assert_eq!(
        (r.step, r.value(), r.values[LOSS_COLUMN]),
        (None, 2.87, Some(1.702))
    );
    let r = step(p.parse(b"{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 1e-05, 'epoch': 0.2}"));
    assert!(r.value().is_nan());
    // Eval and final summaries have no grad_norm: not records.
    assert_eq!(
        p.parse(b"{'eval_loss': 1.2, 'eval_runtime': 3.1, 'epoch': 1.0}"),
        Parsed::Nothing
    );
}

#[test]
fn hf_trainer_5x_quoted_values() {
    let line =
        b"{'loss': '4.389', 'grad_norm': '5.251', 'learning_rate': '0', 'epoch': '0.0006863'}";
    assert_eq!(detect(line, &gnorm()), Some(LogFormat::HfTrainer));
    let r = step(LineParser::new(LogFormat::HfTrainer, gnorm()).parse(line));
    assert_eq!((r.value(), r.values[LOSS_COLUMN]), (5.251, Some(4.389)));
}

#[test]
fn torchtitan_after_ansi_stripping() {
    // torchtitan train.py: f"{color.red}step: {step:2}  {color.green}loss: {loss:7.4f}  ..."
    let raw = b"[rank0]:[titan] 2025-01-10 12:00:00,000 - root - INFO - \x1b[31mstep: 10  \x1b[32mloss:  7.1234  \x1b[38;2;180;60;0mgrad_norm:  1.3000  \x1b[33mmemory: 12.34GiB(15.00%)  \x1b[34mtps: 1,234  \x1b[36mtflops: 50.12  \x1b[35mmfu: 5.07%\x1b[39m";
    let line = crate::ingest::framing::strip_ansi(raw);
    assert_eq!(detect(&line, &gnorm()), Some(LogFormat::Torchtitan));
    let r = step(LineParser::new(LogFormat::Torchtitan, gnorm()).parse(&line));
    assert_eq!(
        (r.step, r.value(), r.values[LOSS_COLUMN]),
        (Some(10), 1.3, Some(7.1234))
    );
}

#[test]
fn tqdm_postfix() {
    let line =
        b"train epoch 3:  23%|##3       | 180/782 [00:41<02:19,  4.31it/s, loss=5.3, gnorm=1.2]";
    assert_eq!(detect(line, &gnorm()), Some(LogFormat::KeyValue));
    let r = step(LineParser::new(LogFormat::KeyValue, gnorm()).parse(line));
    assert_eq!(
        (r.step, r.value(), r.values[LOSS_COLUMN], r.frame),
        (None, 1.2, Some(5.3), Some(180))
    );
}

#[test]
fn json_lines_with_aliases() {
    let p = LineParser::new(LogFormat::JsonLines, gnorm());
    let line = br#"{"train/global_step": 120, "train/grad_norm": 0.75, "train/loss": 2.5}"#;
    assert_eq!(detect(line, &gnorm()), Some(LogFormat::JsonLines));
    let r = step(p.parse(line));
    assert_eq!(
        (r.step, r.value(), r.values[LOSS_COLUMN]),
        (Some(120), 0.75, Some(2.5))
    );
    let r = step(p.parse(br#"{"step": 7, "total_norm": NaN}"#));
    assert!(r.value().is_nan() && r.step == Some(7));
    let r = step(p.parse(br#"{"iteration": "9", "gradient_norm": "Infinity"}"#));
    assert_eq!((r.step, r.value()), (Some(9), f64::INFINITY));
    assert_eq!(
        p.parse(br#"{"step": 7, "grad_norm": "oops"}"#),
        Parsed::Malformed
    );
}

#[test]
fn fairseq_old_per_update_lines() {
    // fairseq <= 0.9 with --log-format simple: running averages per update.
    let line = b"| epoch 001:      1 / 43 loss=15.913, nll_loss=15.911, ppl=61600.74, wps=7245, ups=0, wpb=3442, bsz=128, num_updates=2, lr=2.5e-05, gnorm=0.833, clip=0.000, oom=0.000, wall=6, train_wall=1";
    assert_eq!(detect(line, &gnorm()), Some(LogFormat::FairseqLegacy));
    let r = step(LineParser::new(LogFormat::FairseqLegacy, gnorm()).parse(line));
    assert_eq!((r.step, r.value()), (Some(2), 0.833));
}

#[test]
fn metric_flag_reads_other_metrics() {
    let p = LineParser::new(LogFormat::Megatron, MetricSpec::named("loss"));
    let r = step(
        p.parse(b" iteration        3/    1000 | lm loss: 4.424266E+01 | grad norm: 77.479 |"),
    );
    assert_eq!((r.step, r.value()), (Some(3), 44.24266));
    assert_eq!(MetricSpec::named("grad_norm").label, "gnorm");
    let lr = LineParser::new(LogFormat::FairseqSimple, MetricSpec::named("lr"));
    let r = step(lr.parse(b"train_inner | epoch 1: num_updates=5, lr=0.0001, gnorm=1"));
    assert_eq!(r.value(), 0.0001);
}

#[test]
fn format_names_round_trip() {
    for f in LogFormat::ALL {
        assert_eq!(f.name().parse::<LogFormat>(), Ok(f));
    }
    assert!("csv".parse::<LogFormat>().is_err());
}
