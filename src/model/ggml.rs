//! The ggml file format whisper.cpp loads: magic, hyperparameters, mel
//! filterbank, vocabulary, then tensors. Written by the converters, its header
//! read by the engine (to pick the DTW alignment heads).

use std::io::{Read, Write};
use std::path::Path;

use half::f16;

use super::mel::{slaney_mel_filterbank, WHISPER_N_FFT, WHISPER_SAMPLE_RATE_HZ};
use super::whisper::{WeightType, WhisperHparams};

pub const GGML_MAGIC: u32 = 0x6767_6d6c;
/// ggml tensor types, and the q8_0 block: 32 values sharing one f16 scale.
pub(crate) const GGML_TYPE_F32: i32 = 0;
pub(crate) const GGML_TYPE_F16: i32 = 1;
pub(crate) const GGML_TYPE_Q8_0: i32 = 8;
pub(crate) const Q8_0_BLOCK: usize = 32;

pub(crate) struct GgmlTensor {
    name: String,
    /// Row-major (numpy) shape; written reversed, as ggml counts innermost first.
    shape: Vec<usize>,
    values: Vec<f32>,
    f32_storage: bool,
}

impl GgmlTensor {
    pub(crate) fn new(name: String, shape: Vec<usize>, values: Vec<f32>, force_f32: bool) -> Self {
        let f32_storage = force_f32 || shape.len() < 2;
        Self {
            name,
            shape,
            values,
            f32_storage,
        }
    }

    /// f32 for 1-D tensors, biases and positional embeddings; f16 for conv
    /// kernels (3-D) and rows that do not split into q8_0 blocks; else `weights`.
    fn storage(&self, weights: WeightType) -> i32 {
        let quantizable = self.shape.len() == 2 && self.shape[1].is_multiple_of(Q8_0_BLOCK);
        match (self.f32_storage, weights) {
            (true, _) => GGML_TYPE_F32,
            (false, WeightType::Q8_0) if quantizable => GGML_TYPE_Q8_0,
            _ => GGML_TYPE_F16,
        }
    }

    pub(crate) fn write(&self, w: &mut impl Write, weights: WeightType) -> std::io::Result<()> {
        let storage = self.storage(weights);
        w.write_all(&(self.shape.len() as i32).to_le_bytes())?;
        w.write_all(&(self.name.len() as i32).to_le_bytes())?;
        w.write_all(&storage.to_le_bytes())?;
        for &d in self.shape.iter().rev() {
            w.write_all(&(d as i32).to_le_bytes())?;
        }
        w.write_all(self.name.as_bytes())?;
        match storage {
            GGML_TYPE_F32 => {
                for v in &self.values {
                    w.write_all(&v.to_le_bytes())?;
                }
            }
            GGML_TYPE_Q8_0 => {
                for block in self.values.chunks_exact(Q8_0_BLOCK) {
                    let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
                    let scale = amax / 127.0;
                    let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
                    w.write_all(&f16::from_f32(scale).to_le_bytes())?;
                    let quants: Vec<u8> = block.iter().map(|v| (v * inverse).round() as i8 as u8).collect();
                    w.write_all(&quants)?;
                }
            }
            _ => {
                for v in &self.values {
                    w.write_all(&f16::from_f32(*v).to_le_bytes())?;
                }
            }
        }
        Ok(())
    }
}

pub(super) fn write_header(
    w: &mut impl Write,
    hp: &WhisperHparams,
    tokens: &[Vec<u8>],
    weights: WeightType,
) -> std::io::Result<()> {
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
    ] {
        w.write_all(&(v as i32).to_le_bytes())?;
    }
    w.write_all(&weights.header_ftype().to_le_bytes())?;
    let filters = slaney_mel_filterbank(hp.n_mels, WHISPER_N_FFT, WHISPER_SAMPLE_RATE_HZ);
    w.write_all(&(hp.n_mels as i32).to_le_bytes())?;
    w.write_all(&((WHISPER_N_FFT / 2 + 1) as i32).to_le_bytes())?;
    for v in filters {
        w.write_all(&v.to_le_bytes())?;
    }
    w.write_all(&(tokens.len() as i32).to_le_bytes())?;
    for token in tokens {
        w.write_all(&(token.len() as u32).to_le_bytes())?;
        w.write_all(token)?;
    }
    Ok(())
}

/// The header fields of a whisper model file that tell which model it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlHeader {
    pub n_vocab: i32,
    pub n_audio_layer: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
}

/// Reads the header that [`write_header`] writes (magic and hyperparameters);
/// the error says what is wrong, for the caller to put in context.
pub fn read_header(path: &Path) -> Result<GgmlHeader, String> {
    let mut bytes = [0u8; 48];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read the header: {e}"))?;
    let field = |i: usize| i32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    if field(0) as u32 != GGML_MAGIC {
        return Err(
            "not a whisper.cpp ggml model (bad magic); convert CTranslate2 models with `callqa model import`".into(),
        );
    }
    Ok(GgmlHeader {
        n_vocab: field(1),
        n_audio_layer: field(5),
        n_text_layer: field(9),
        n_mels: field(10),
    })
}
