//! `callqa model import`: CTranslate2 whisper → ggml, and `model path`.

use std::path::Path;

use anyhow::Context;

use crate::asr::convert::{convert_ct2_to_ggml_as, WeightType};

pub fn import(ct2_dir: &Path, out: &Path, weights: WeightType) -> anyhow::Result<()> {
    let report = convert_ct2_to_ggml_as(ct2_dir, out, weights)
        .with_context(|| format!("converting the CTranslate2 model in {}", ct2_dir.display()))?;
    let hp = report.hparams;
    eprintln!(
        "wrote {} ({} bytes, {} tensors): {} audio / {} text layers, state {}, {} mels, vocab {}",
        out.display(),
        report.bytes_written,
        report.tensor_count,
        hp.n_audio_layer,
        hp.n_text_layer,
        hp.n_audio_state,
        hp.n_mels,
        hp.n_vocab
    );
    Ok(())
}
