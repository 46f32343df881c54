//! CTranslate2 whisper → whisper.cpp ggml: which CT2 arrays become which ggml
//! tensors, in the reference converter's order (see the module docs of `model`).

use std::io::{BufWriter, Write};
use std::path::Path;

use super::ct2::Ct2Model;
use super::ggml::{write_header, GgmlTensor};
use super::tokenizer::read_regular_tokens;
use super::ConvertError;

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
    pub(super) fn header_ftype(self) -> i32 {
        match self {
            WeightType::F16 => 1,
            WeightType::Q8_0 => 7 + 2 * 1000,
        }
    }
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
    crate::files::write_atomic_with(out, |file| {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use half::f16;

    use super::*;
    use crate::model::ggml::{GGML_MAGIC, GGML_TYPE_F16, GGML_TYPE_F32, GGML_TYPE_Q8_0, Q8_0_BLOCK};

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
        convert_ct2_to_ggml_as(dir.path(), &out, WeightType::F16).unwrap();
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
        convert_ct2_to_ggml_as(dir.path(), &out, WeightType::F16).unwrap();
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
        let report = convert_ct2_to_ggml_as(dir.path(), &out, WeightType::F16).unwrap();
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
        let err = convert_ct2_to_ggml_as(dir.path(), &dir.path().join("out.bin"), WeightType::F16).unwrap_err();
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
            let _ = convert_ct2_to_ggml_as(dir.path(), &dir.path().join("out.bin"), WeightType::F16);
        }
    }
}
