//! The GE2E speaker encoder (the `resemblyzer` wheel's `pretrained.pt`,
//! Apache-2.0) → a safetensors file callqa's own network reads
//! (`audio::voice_vector`).
//!
//! The wheel's checkpoint is a PyTorch legacy pickle with the training
//! state beside the weights; only `model_state`'s LSTM and linear layer are
//! kept, checked against the shapes the network is built for (40 mel
//! channels in, three LSTM layers of 256, a 256 × 256 projection), so a
//! different checkpoint is refused with the tensor that does not fit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use super::torch_legacy::{read_state_dict, Tensor};

/// Mel channels in, LSTM width and depth, embedding width.
pub const MEL_CHANNELS: usize = 40;
pub const HIDDEN: usize = 256;
pub const LAYERS: usize = 3;
pub const EMBEDDING: usize = 256;

/// What the network reads, with their shapes.
pub fn expected_shapes() -> Vec<(String, Vec<usize>)> {
    let mut shapes = Vec::new();
    for layer in 0..LAYERS {
        let input = if layer == 0 { MEL_CHANNELS } else { HIDDEN };
        shapes.push((format!("lstm.weight_ih_l{layer}"), vec![4 * HIDDEN, input]));
        shapes.push((format!("lstm.weight_hh_l{layer}"), vec![4 * HIDDEN, HIDDEN]));
        shapes.push((format!("lstm.bias_ih_l{layer}"), vec![4 * HIDDEN]));
        shapes.push((format!("lstm.bias_hh_l{layer}"), vec![4 * HIDDEN]));
    }
    shapes.push(("linear.weight".into(), vec![EMBEDDING, HIDDEN]));
    shapes.push(("linear.bias".into(), vec![EMBEDDING]));
    shapes
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceConvertError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a PyTorch checkpoint callqa reads: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: not the GE2E voice encoder: {reason}")]
    NotGe2e { path: PathBuf, reason: String },
}

/// True when `path` is a PyTorch checkpoint (`.pt`).
pub fn is_torch_checkpoint(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "pt")
}

/// Converts the checkpoint at `source` to safetensors at `out` (atomically);
/// returns the number of tensors and bytes written.
pub fn convert_ge2e(source: &Path, out: &Path) -> Result<(usize, u64), VoiceConvertError> {
    let bytes = std::fs::read(source).map_err(|e| VoiceConvertError::Io {
        path: source.to_path_buf(),
        source: e,
    })?;
    let tensors = read_state_dict(&bytes, "model_state").map_err(|reason| VoiceConvertError::Format {
        path: source.to_path_buf(),
        reason,
    })?;
    let by_name: HashMap<&str, &Tensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let not_ge2e = |reason: String| VoiceConvertError::NotGe2e {
        path: source.to_path_buf(),
        reason,
    };
    let mut kept: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, shape) in expected_shapes() {
        let tensor = by_name
            .get(name.as_str())
            .ok_or_else(|| not_ge2e(format!("no tensor {name}")))?;
        if tensor.shape != shape {
            return Err(not_ge2e(format!("{name} is {:?}, expected {shape:?}", tensor.shape)));
        }
        let data = tensor.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        kept.push((name, shape, data));
    }
    let views = kept
        .iter()
        .map(|(name, shape, data)| TensorView::new(Dtype::F32, shape.clone(), data).map(|view| (name.clone(), view)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_ge2e(e.to_string()))?;
    let metadata = HashMap::from([("source".to_string(), "resemblyzer pretrained.pt (GE2E)".to_string())]);
    let buffer = safetensors::serialize(views, Some(metadata)).map_err(|e| not_ge2e(e.to_string()))?;
    crate::files::write_atomic(out, &buffer).map_err(|e| VoiceConvertError::Io {
        path: out.to_path_buf(),
        source: e,
    })?;
    Ok((kept.len(), buffer.len() as u64))
}
