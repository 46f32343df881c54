//! `callqa model import`: CTranslate2 whisper → ggml, Silero VAD safetensors → ggml,
//! the GE2E voice encoder (PyTorch checkpoint) → safetensors.

use std::path::Path;

use anyhow::Context;

use crate::model::ge2e::{convert_ge2e, is_torch_checkpoint};
use crate::model::silero::{convert_silero_to_ggml, is_safetensors};
use crate::model::{convert_ct2_to_ggml_as, WeightType};

pub fn import(source: &Path, out: &Path, weights: WeightType) -> anyhow::Result<()> {
    if is_torch_checkpoint(source) {
        anyhow::ensure!(weights == WeightType::F16, "--quantize applies to whisper models only");
        let (tensors, bytes) = convert_ge2e(source, out)
            .with_context(|| format!("converting the voice encoder in {}", source.display()))?;
        eprintln!(
            "wrote {} ({bytes} bytes, {tensors} tensors): GE2E voice encoder, 40 mels, LSTM 3 × 256",
            out.display()
        );
        return Ok(());
    }
    if is_safetensors(source) {
        anyhow::ensure!(
            weights == WeightType::F16,
            "--quantize applies to whisper models only: whisper.cpp fixes the VAD's weight types"
        );
        let report = convert_silero_to_ggml(source, out)
            .with_context(|| format!("converting the Silero VAD in {}", source.display()))?;
        eprintln!(
            "wrote {} ({} bytes, {} tensors): Silero VAD, 16 kHz, {} encoder layers, LSTM {}",
            out.display(),
            report.bytes_written,
            report.tensor_count,
            report.encoder_layers.len(),
            report.lstm_hidden
        );
        return Ok(());
    }
    let report = convert_ct2_to_ggml_as(source, out, weights)
        .with_context(|| format!("converting the CTranslate2 model in {}", source.display()))?;
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
