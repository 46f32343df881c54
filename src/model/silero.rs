//! Silero VAD (safetensors, from the `silero-vad` PyPI wheel) → whisper.cpp's
//! ggml VAD model.
//!
//! whisper.cpp carries a Silero VAD of its own (`whisper_vad_init_*`), but
//! reads its weights only in its own layout, and no model hub is reachable
//! here. The wheel ships the 16 kHz model as plain f32 tensors, so we convert:
//!
//! ```text
//! u32 magic "ggml" | i32 len + model type ("silero-16k") | i32 major, minor, patch
//! | i32 n_window (512), i32 n_context (64) | i32 n_encoder_layers
//! | per layer: i32 in_channels, i32 out_channels, i32 kernel
//! | i32 lstm_input, i32 lstm_hidden, i32 final_conv_in, i32 final_conv_out
//! | tensors until EOF, in the same record format as the whisper model
//! ```
//!
//! The loader fixes each tensor's type: the STFT basis and the conv kernels
//! f16, the LSTM matrices and every bias f32. Shapes are checked against each
//! other here, so a file that is not the 16 kHz Silero model is refused with
//! the tensor that does not fit instead of being written and failing later
//! inside whisper.cpp.
//!
//! callqa runs the network itself (`audio::silero`), reading this file back
//! with [`read_silero_ggml`]. The file stays in whisper.cpp's layout so that
//! whisper.cpp's own VAD can load it too: that is the reference the network
//! is tested against, and what any other whisper.cpp tool would use.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use super::bytes::ByteReader;
use super::ggml::{GgmlTensor, GGML_MAGIC, GGML_TYPE_F16, GGML_TYPE_F32};
use super::WeightType;

/// Samples per VAD window at 16 kHz (32 ms), and the context Silero keeps
/// from the previous window.
const N_WINDOW: i32 = 512;
const N_CONTEXT: i32 = 64;
const MODEL_TYPE: &str = "silero-16k";
const ENCODER_LAYERS: usize = 4;
const LSTM_HIDDEN: usize = 128;

/// The tensors of the 16 kHz Silero VAD, with the shapes whisper.cpp's graph expects.
const SILERO_16K_SHAPES: &[(&str, &[usize])] = &[
    ("stft_conv.weight", &[258, 1, 256]),
    ("conv1.weight", &[128, 129, 3]),
    ("conv1.bias", &[128]),
    ("conv2.weight", &[64, 128, 3]),
    ("conv2.bias", &[64]),
    ("conv3.weight", &[64, 64, 3]),
    ("conv3.bias", &[64]),
    ("conv4.weight", &[128, 64, 3]),
    ("conv4.bias", &[128]),
    ("lstm_cell.weight_ih", &[512, 128]),
    ("lstm_cell.weight_hh", &[512, 128]),
    ("lstm_cell.bias_ih", &[512]),
    ("lstm_cell.bias_hh", &[512]),
    ("final_conv.weight", &[1, 128, 1]),
    ("final_conv.bias", &[1]),
];

#[derive(Debug, thiserror::Error)]
pub enum VadConvertError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a safetensors file: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: not the 16 kHz Silero VAD: {reason}")]
    NotSilero { path: PathBuf, reason: String },
}

/// What was written, for the user and for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConversionReport {
    pub tensor_count: usize,
    pub bytes_written: u64,
    /// (in, out, kernel) per encoder conv layer.
    pub encoder_layers: Vec<(usize, usize, usize)>,
    pub lstm_hidden: usize,
}

/// True when `path` looks like a safetensors file (rather than a CT2 folder).
pub fn is_safetensors(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "safetensors")
}

/// Converts `silero_vad_16k.safetensors` to whisper.cpp's VAD layout at `out`
/// (written to a temporary file, then renamed).
pub fn convert_silero_to_ggml(source: &Path, out: &Path) -> Result<VadConversionReport, VadConvertError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VadConvertError::Io { path, source }
    };
    let bytes = std::fs::read(source).map_err(io(source))?;
    let (tensors, version) = read_silero(source, &bytes)?;
    let report = VadConversionReport {
        tensor_count: tensors.len(),
        bytes_written: 0,
        encoder_layers: (1..=ENCODER_LAYERS)
            .map(|i| {
                let shape = &tensors[&format!("conv{i}.weight")].0;
                (shape[1], shape[0], shape[2])
            })
            .collect(),
        lstm_hidden: tensors["lstm_cell.weight_hh"].0[1],
    };

    let mut buffer = Vec::new();
    write_model(&mut buffer, &tensors, &report, version).map_err(io(out))?;
    crate::files::write_atomic(out, &buffer).map_err(io(out))?;
    Ok(VadConversionReport {
        bytes_written: buffer.len() as u64,
        ..report
    })
}

type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads and checks every tensor the whisper.cpp loader wants. The version
/// comes from the file's metadata when it has one (the wheel's does not: then 0.0.0).
fn read_silero(path: &Path, bytes: &[u8]) -> Result<(Tensors, [i32; 3]), VadConvertError> {
    let format = |reason: String| VadConvertError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let not_silero = |reason: String| VadConvertError::NotSilero {
        path: path.to_path_buf(),
        reason,
    };
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| format(e.to_string()))?;
    let version = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get("version"))
        .map_or([0, 0, 0], |v| parse_version(v));
    let file = SafeTensors::deserialize(bytes).map_err(|e| format(e.to_string()))?;

    let mut tensors = Tensors::new();
    let mut take = |name: &str| -> Result<Vec<usize>, VadConvertError> {
        let view = file.tensor(name).map_err(|_| not_silero(format!("no tensor {name}")))?;
        if view.dtype() != Dtype::F32 {
            return Err(not_silero(format!("{name} is {:?}, expected F32", view.dtype())));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let shape = view.shape().to_vec();
        tensors.insert(name.to_string(), (shape.clone(), values));
        Ok(shape)
    };

    // whisper.cpp's VAD graph is built for exactly these shapes (channel
    // counts and strides are fixed in its code), so nothing else is accepted.
    for (name, expected) in SILERO_16K_SHAPES {
        let shape = take(name)?;
        if shape != *expected {
            return Err(not_silero(format!("{name} is {shape:?}, expected {expected:?}")));
        }
    }
    Ok((tensors, version))
}

fn parse_version(text: &str) -> [i32; 3] {
    let mut parts = text.trim_start_matches('v').split('.').map(|p| p.parse().unwrap_or(0));
    [(); 3].map(|()| parts.next().unwrap_or(0))
}

/// Where each source tensor goes in the ggml file: (source name, whisper.cpp
/// name, row-major shape as whisper.cpp declares it when it differs, f32?).
fn tensor_layout(hidden: usize) -> Vec<(String, String, Option<Vec<usize>>, bool)> {
    let mut layout = vec![(
        "stft_conv.weight".to_string(),
        "_model.stft.forward_basis_buffer".to_string(),
        None,
        false,
    )];
    for i in 0..ENCODER_LAYERS {
        let ggml = format!("_model.encoder.{i}.reparam_conv");
        layout.push((format!("conv{}.weight", i + 1), format!("{ggml}.weight"), None, false));
        layout.push((format!("conv{}.bias", i + 1), format!("{ggml}.bias"), None, true));
    }
    for part in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
        layout.push((
            format!("lstm_cell.{part}"),
            format!("_model.decoder.rnn.{part}"),
            None,
            true,
        ));
    }
    // whisper.cpp declares the final 1×1 conv as a 2-D [1][hidden] kernel.
    layout.push((
        "final_conv.weight".into(),
        "_model.decoder.decoder.2.weight".into(),
        Some(vec![1, hidden]),
        false,
    ));
    layout.push((
        "final_conv.bias".into(),
        "_model.decoder.decoder.2.bias".into(),
        None,
        true,
    ));
    layout
}

/// The weights of a converted Silero VAD file (as [`convert_silero_to_ggml`]
/// writes it), by their names in the wheel (`conv1.weight`, ...), row-major
/// as there, f16 tensors widened to f32.
pub fn read_silero_ggml(path: &Path) -> Result<HashMap<String, Vec<f32>>, VadConvertError> {
    let bytes = std::fs::read(path).map_err(|source| VadConvertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_model(&bytes).map_err(|reason| VadConvertError::NotSilero {
        path: path.to_path_buf(),
        reason,
    })
}

fn read_model(bytes: &[u8]) -> Result<HashMap<String, Vec<f32>>, String> {
    let mut file = ByteReader::new(bytes);
    let header = "the file ends inside its header";
    if file.i32().map_err(|_| header)? as u32 != GGML_MAGIC {
        return Err("not a ggml file".into());
    }
    let type_len = file.i32().map_err(|_| header)?.max(0) as usize;
    if type_len > 64 {
        // a whisper model has its vocabulary size here
        return Err(format!("no model type where {MODEL_TYPE} belongs (a whisper model?)"));
    }
    let model_type = String::from_utf8_lossy(file.take(type_len).map_err(|_| header)?);
    if model_type != MODEL_TYPE {
        return Err(format!("model type {model_type:?}, expected {MODEL_TYPE}"));
    }
    for _ in 0..5 {
        file.i32().map_err(|_| header)?; // version, window and context (fixed by the graph)
    }
    let layers = file.i32().map_err(|_| header)?.max(0) as usize;
    for _ in 0..layers * 3 + 4 {
        file.i32().map_err(|_| header)?; // layer and LSTM sizes, checked below through the tensors
    }

    let by_ggml_name: HashMap<String, String> = tensor_layout(LSTM_HIDDEN)
        .into_iter()
        .map(|(source, ggml, _, _)| (ggml, source))
        .collect();
    let mut tensors = HashMap::new();
    while !file.at_end() {
        let record = "the file ends inside a tensor record";
        let n_dims = file.i32().map_err(|_| record)?.max(0) as usize;
        let name_len = file.i32().map_err(|_| record)?.max(0) as usize;
        let ggml_type = file.i32().map_err(|_| record)?;
        let mut count = 1usize;
        for _ in 0..n_dims {
            count = count.saturating_mul(file.i32().map_err(|_| record)?.max(0) as usize);
        }
        let name = String::from_utf8_lossy(file.take(name_len).map_err(|_| record)?).into_owned();
        let values: Vec<f32> = match ggml_type {
            GGML_TYPE_F32 => file
                .take(count.saturating_mul(4))
                .map_err(|_| format!("the file ends inside {name}"))?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            GGML_TYPE_F16 => file
                .take(count.saturating_mul(2))
                .map_err(|_| format!("the file ends inside {name}"))?
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => return Err(format!("{name}: tensor type {other}, expected f32 or f16")),
        };
        let source = by_ggml_name
            .get(&name)
            .ok_or_else(|| format!("unknown tensor {name}"))?;
        tensors.insert(source.clone(), values);
    }
    for (name, shape) in SILERO_16K_SHAPES {
        let want: usize = shape.iter().product();
        match tensors.get(*name) {
            Some(values) if values.len() == want => {}
            Some(values) => return Err(format!("{name} holds {} values, expected {want}", values.len())),
            None => return Err(format!("no tensor {name}")),
        }
    }
    Ok(tensors)
}

fn write_model(
    w: &mut impl Write,
    tensors: &Tensors,
    report: &VadConversionReport,
    version: [i32; 3],
) -> std::io::Result<()> {
    let int = |w: &mut dyn Write, v: usize| w.write_all(&(v as i32).to_le_bytes());
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    int(w, MODEL_TYPE.len())?;
    w.write_all(MODEL_TYPE.as_bytes())?;
    for v in version {
        w.write_all(&v.to_le_bytes())?;
    }
    w.write_all(&N_WINDOW.to_le_bytes())?;
    w.write_all(&N_CONTEXT.to_le_bytes())?;
    int(w, report.encoder_layers.len())?;
    for &(channels_in, channels_out, kernel) in &report.encoder_layers {
        int(w, channels_in)?;
        int(w, channels_out)?;
        int(w, kernel)?;
    }
    let hidden = report.lstm_hidden;
    for v in [hidden, hidden, hidden, 1] {
        int(w, v)?; // lstm input, lstm hidden, final conv in, final conv out
    }

    for (source, name, shape, force_f32) in tensor_layout(hidden) {
        let (source_shape, values) = &tensors[&source];
        let shape = shape.unwrap_or_else(|| source_shape.clone());
        GgmlTensor::new(name, shape, values.clone(), force_f32).write(w, WeightType::F16)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn silero_shapes() -> Vec<(&'static str, Vec<usize>)> {
        SILERO_16K_SHAPES.iter().map(|(n, s)| (*n, s.to_vec())).collect()
    }

    /// A safetensors file holding `shapes`, each element `value(name, index)`,
    /// made by hand so tests need no Python.
    pub(crate) fn safetensors_file(shapes: &[(&str, Vec<usize>)], value: impl Fn(&str, usize) -> f32) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, shape) in shapes {
            let n: usize = shape.iter().product();
            let start = data.len();
            for i in 0..n {
                data.extend_from_slice(&value(name, i).to_le_bytes());
            }
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
            );
        }
        let header = serde_json::to_vec(&header).unwrap();
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(&header);
        file.extend_from_slice(&data);
        file
    }

    /// One ggml tensor record read back: (name, type, ne innermost first, payload bytes).
    type Record = (String, i32, Vec<i32>, Vec<u8>);

    fn read_records(bytes: &[u8], mut at: usize) -> Vec<Record> {
        let int = |at: &mut usize| {
            let v = i32::from_le_bytes(bytes[*at..*at + 4].try_into().unwrap());
            *at += 4;
            v
        };
        let mut records = Vec::new();
        while at < bytes.len() {
            let n_dims = int(&mut at);
            let name_len = int(&mut at) as usize;
            let ttype = int(&mut at);
            let ne: Vec<i32> = (0..n_dims).map(|_| int(&mut at)).collect();
            let name = String::from_utf8(bytes[at..at + name_len].to_vec()).unwrap();
            at += name_len;
            let count: usize = ne.iter().map(|&d| d as usize).product();
            let size = count * if ttype == 0 { 4 } else { 2 };
            records.push((name, ttype, ne, bytes[at..at + size].to_vec()));
            at += size;
        }
        records
    }

    #[test]
    fn writes_the_layout_whisper_cpp_loads() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("silero_vad_16k.safetensors");
        // every value tells which tensor and which element it is
        let tag = |name: &str| name.bytes().map(|b| b as usize).sum::<usize>() as f32;
        std::fs::write(
            &source,
            safetensors_file(&silero_shapes(), |name, i| tag(name) + (i % 7) as f32 / 8.0),
        )
        .unwrap();
        let out = dir.path().join("vad.bin");
        let report = convert_silero_to_ggml(&source, &out).unwrap();
        assert_eq!(
            report.encoder_layers,
            [(129, 128, 3), (128, 64, 3), (64, 64, 3), (64, 128, 3)]
        );
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(report.bytes_written, bytes.len() as u64);

        let ints: Vec<i32> = bytes[..100]
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(ints[0] as u32, GGML_MAGIC);
        assert_eq!(ints[1], 10);
        assert_eq!(&bytes[8..18], b"silero-16k");
        // after the 18-byte prefix (magic, length, type): version, window, context, layers
        let after_type: Vec<i32> = bytes[18..18 + 4 * 22]
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(
            after_type,
            [0, 0, 0, 512, 64, 4, 129, 128, 3, 128, 64, 3, 64, 64, 3, 64, 128, 3, 128, 128, 128, 1]
        );

        let records = read_records(&bytes, 18 + 4 * 22);
        let by_name: HashMap<&str, &Record> = records.iter().map(|r| (r.0.as_str(), r)).collect();
        assert_eq!(records.len(), 15);
        for (name, ttype, ne, source_name) in [
            (
                "_model.stft.forward_basis_buffer",
                1,
                vec![256, 1, 258],
                "stft_conv.weight",
            ),
            (
                "_model.encoder.0.reparam_conv.weight",
                1,
                vec![3, 129, 128],
                "conv1.weight",
            ),
            ("_model.encoder.3.reparam_conv.bias", 0, vec![128], "conv4.bias"),
            ("_model.decoder.rnn.weight_ih", 0, vec![128, 512], "lstm_cell.weight_ih"),
            ("_model.decoder.rnn.bias_hh", 0, vec![512], "lstm_cell.bias_hh"),
            ("_model.decoder.decoder.2.weight", 1, vec![128, 1], "final_conv.weight"),
            ("_model.decoder.decoder.2.bias", 0, vec![1], "final_conv.bias"),
        ] {
            let (_, got_type, got_ne, payload) = by_name[name];
            assert_eq!((*got_type, got_ne), (ttype, &ne), "{name}");
            // values, by position: the element order is the source's, row-major
            let count = ne.iter().product::<i32>() as usize;
            for i in [0, 1, 5, count - 1].into_iter().filter(|&i| i < count) {
                let expected = tag(source_name) + (i % 7) as f32 / 8.0;
                let got = if ttype == 0 {
                    f32::from_le_bytes(payload[4 * i..4 * i + 4].try_into().unwrap())
                } else {
                    half::f16::from_le_bytes(payload[2 * i..2 * i + 2].try_into().unwrap()).to_f32()
                };
                assert!(
                    (got - expected).abs() <= expected.abs() * 1e-3,
                    "{name}[{i}]: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn reads_back_what_it_wrote_and_refuses_a_cut_file() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("silero_vad_16k.safetensors");
        let value = |name: &str, i: usize| (name.len() * 31 + i % 13) as f32 / 64.0 - 1.0;
        std::fs::write(&source, safetensors_file(&silero_shapes(), value)).unwrap();
        let out = dir.path().join("vad.bin");
        convert_silero_to_ggml(&source, &out).unwrap();

        let weights = read_silero_ggml(&out).unwrap();
        assert_eq!(weights.len(), SILERO_16K_SHAPES.len());
        for (name, shape) in SILERO_16K_SHAPES {
            let values = &weights[*name];
            assert_eq!(values.len(), shape.iter().product::<usize>(), "{name}");
            for (i, got) in values.iter().enumerate() {
                // f16 tensors keep 11 significant bits
                assert!((got - value(name, i)).abs() <= 1e-3, "{name}[{i}]: {got}");
            }
        }

        let bytes = std::fs::read(&out).unwrap();
        for (cut, reason) in [
            (bytes.len() - 1, "ends inside"),
            (20, "ends inside its header"),
            (0, "ends inside its header"),
        ] {
            std::fs::write(&out, &bytes[..cut]).unwrap();
            let error = read_silero_ggml(&out).unwrap_err().to_string();
            assert!(error.contains(reason), "{cut} bytes: {error}");
        }
        // without the last record (the final bias): 4 ints, its name, one f32
        let last_record = 4 * 4 + "_model.decoder.decoder.2.bias".len() + 4;
        std::fs::write(&out, &bytes[..bytes.len() - last_record]).unwrap();
        let error = read_silero_ggml(&out).unwrap_err().to_string();
        assert!(error.contains("no tensor final_conv.bias"), "{error}");
    }

    #[test]
    fn refuses_what_is_not_the_16k_silero_model() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("vad.bin");
        for (bytes, expected) in [
            (b"not a safetensors file".to_vec(), "not a safetensors file"),
            (Vec::new(), "not a safetensors file"),
        ] {
            let source = dir.path().join("x.safetensors");
            std::fs::write(&source, bytes).unwrap();
            let err = convert_silero_to_ggml(&source, &out).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        // valid safetensors, but not the model whisper.cpp expects
        let mut wrong_kernel = silero_shapes();
        wrong_kernel[3].1 = vec![64, 128, 1];
        let mut missing_bias = silero_shapes();
        missing_bias.pop();
        let mut eight_khz = silero_shapes();
        eight_khz[0].1 = vec![130, 1, 128];
        for (shapes, expected) in [
            (wrong_kernel, "conv2.weight is [64, 128, 1], expected [64, 128, 3]"),
            (missing_bias, "no tensor final_conv.bias"),
            (eight_khz, "stft_conv.weight is [130, 1, 128], expected [258, 1, 256]"),
        ] {
            let source = dir.path().join("wrong.safetensors");
            std::fs::write(&source, safetensors_file(&shapes, |_, _| 0.5)).unwrap();
            let err = convert_silero_to_ggml(&source, &out).unwrap_err().to_string();
            assert!(err.contains(expected) && err.contains("wrong.safetensors"), "{err}");
        }
        let err = convert_silero_to_ggml(&dir.path().join("missing.safetensors"), &out)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.safetensors"), "{err}");
        assert!(!out.exists(), "nothing written for a refused model");
    }

    #[test]
    fn versions_parse_leniently() {
        assert_eq!(parse_version("6.2.3"), [6, 2, 3]);
        assert_eq!(parse_version("v5.1"), [5, 1, 0]);
        assert_eq!(parse_version("junk"), [0, 0, 0]);
    }
}
