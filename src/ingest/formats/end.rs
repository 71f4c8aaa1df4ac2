//! The lines frameworks print when training has run to its end: a text log that prints one is
//! `finished`. Only what the frameworks really print (read in their sources):
//!
//! | framework | line | where it comes from |
//! |---|---|---|
//! | fairseq | `… fairseq_cli.train \| done training in 41.7 seconds` | `fairseq_cli/train.py`, after the last epoch |
//! | HF Trainer | `{'train_runtime': 228.0, 'train_samples_per_second': …}` (4.x; 5.x quotes the values) | the final `log()` of `Trainer.train` |
//! | HF Trainer | `Training completed. Do not forget to share your model on huggingface.co/models =)` | `Trainer._inner_training_loop` (INFO) |
//! | Lightning | `` `Trainer.fit` stopped: `max_steps=200` reached. `` (or `max_epochs=`) | `fit_loop.py` |
//! | Megatron-LM | `[after training is done] datetime: 2024-01-01 00:00:00` | `print_datetime` in `pretrain()` |
//! | torchtitan | `… INFO - Training completed` | `torchtitan/train.py` |
//! | OLMo | `… Training complete` | `scripts/train.py` after `trainer.fit()` |
//! | llm.c | `total average iteration time: 2490.05 ms` | `train_gpt2.cu` after the loop |
//!
//! nanoGPT, build-nanogpt, modded-nanogpt, mmengine and torchtune print nothing at the end
//! that tells a finished run from a stopped one, so their text logs are never `finished`.

/// The framework whose end-of-training line `line` is (ANSI codes already stripped).
pub fn end_line(line: &[u8]) -> Option<&'static str> {
    let line = trim(line);
    if line.starts_with(b"total average iteration time:") {
        return Some("llm.c");
    }
    // Every other rule's text holds "rain": one search rules out almost every line.
    memchr::memmem::find(line, b"rain")?;
    let has = |s: &[u8]| memchr::memmem::find(line, s).is_some();
    if has(b"done training in ") {
        Some("fairseq")
    } else if has(b"'train_runtime':")
        || has(b"\"train_runtime\":")
        || has(b"Training completed. Do not forget to share your model")
    {
        Some("HF Trainer")
    } else if has(b"Trainer.fit") && has(b"stopped: `max_") && has(b"reached") {
        Some("Lightning")
    } else if has(b"[after training is done] datetime:") {
        Some("Megatron-LM")
    } else if line.ends_with(b"Training completed") {
        Some("torchtitan")
    } else if line.ends_with(b"Training complete") {
        Some("OLMo")
    } else {
        None
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw(line: &str) -> Option<&'static str> {
        end_line(line.as_bytes())
    }

    #[test]
    fn the_frameworks_end_lines() {
        // Verbatim from ../shared/samples/pytorch-fairseq-learned/train-learned.log.
        assert_eq!(
            fw("2026-12-01 07:37:20 | INFO | fairseq_cli.train | done training in 41.7 seconds"),
            Some("fairseq")
        );
        // The shapes below are what the frameworks' own print/log calls write.
        assert_eq!(
            fw("{'train_runtime': 228.0153, 'train_samples_per_second': 0.421, 'train_steps_per_second': 0.026, 'train_loss': 2.0226850509643555, 'epoch': 1.0}"),
            Some("HF Trainer")
        );
        assert_eq!(
            fw("{'train_runtime': '228', 'train_samples_per_second': '0.421', 'epoch': '1'}"),
            Some("HF Trainer")
        );
        assert_eq!(
            fw("Training completed. Do not forget to share your model on huggingface.co/models =)"),
            Some("HF Trainer")
        );
        assert_eq!(
            fw("`Trainer.fit` stopped: `max_steps=200` reached."),
            Some("Lightning")
        );
        assert_eq!(
            fw("`Trainer.fit` stopped: `max_epochs=10` reached.   "),
            Some("Lightning")
        );
        assert_eq!(
            fw("[after training is done] datetime: 2024-05-01 12:00:00 "),
            Some("Megatron-LM")
        );
        assert_eq!(
            fw("[rank0]:[titan] 2025-01-01 00:00:00,000 - root - INFO - Training completed"),
            Some("torchtitan")
        );
        assert_eq!(
            fw("2024-01-01 00:00:00.000\tnode:0\tolmo.train:0\tINFO\tTraining complete"),
            Some("OLMo")
        );
        assert_eq!(
            fw("total average iteration time: 2490.052581 ms"),
            Some("llm.c")
        );
    }

    #[test]
    fn other_lines_are_not_ends() {
        for l in [
            "2023-06-14 09:48:47 | INFO | fairseq_cli.train | begin validation on \"valid\" subset",
            "2026-12-01 07:37:20 | INFO | fairseq_cli.train | end of epoch 4 (average epoch stats below)",
            "2024-01-01 | INFO | olmo.train | Training epoch complete",
            "{'loss': 1.702, 'grad_norm': 2.87, 'learning_rate': 2e-05, 'epoch': 0.16}",
            "step 19072 | loss: 3.083290 | lr 6.0000e-05 | norm: 0.3197 | dt: 18264.89ms",
            "",
        ] {
            assert_eq!(fw(l), None, "{l}");
        }
    }
}
