//! Reading CTranslate2's `model.bin` (binary version 6): named arrays plus aliases.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use half::{bf16, f16};

use super::bytes::ByteReader;
use super::ConvertError;

/// One stored array of the CT2 model, kept as f32 after decoding.
pub(super) struct Ct2Variable {
    pub(super) dims: Vec<usize>,
    pub(super) values: Vec<f32>,
}

/// The parsed CT2 `model.bin`: named variables plus aliases (e.g. the output
/// projection that shares the token embedding).
pub(super) struct Ct2Model {
    pub(super) path: PathBuf,
    pub(super) variables: HashMap<String, Ct2Variable>,
    pub(super) aliases: HashMap<String, String>,
}

impl Ct2Model {
    pub(super) fn read(path: &Path) -> Result<Self, ConvertError> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| ConvertError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let (raw, aliases) = read_arrays(&bytes).map_err(|reason| ConvertError::Format {
            path: path.to_path_buf(),
            reason,
        })?;
        let variables = dequantize_int8(raw);
        Ok(Self {
            path: path.to_path_buf(),
            variables,
            aliases,
        })
    }

    pub(super) fn get(&self, name: &str) -> Result<&Ct2Variable, ConvertError> {
        let resolved = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.variables.get(resolved).ok_or_else(|| ConvertError::Missing {
            path: self.path.clone(),
            name: name.to_string(),
        })
    }

    /// A variable that must have `rank` dimensions, none of them zero.
    pub(super) fn get_rank(&self, name: &str, rank: usize) -> Result<&Ct2Variable, ConvertError> {
        let v = self.get(name)?;
        if v.dims.len() != rank || v.dims.contains(&0) {
            return Err(ConvertError::Format {
                path: self.path.clone(),
                reason: format!("{name} has shape {:?}, expected {rank} non-empty dimensions", v.dims),
            });
        }
        Ok(v)
    }

    pub(super) fn count_layers(&self, prefix: &str) -> usize {
        (0..)
            .take_while(|i| {
                let layer = format!("{prefix}/layer_{i}/");
                self.variables.keys().any(|k| k.starts_with(&layer))
            })
            .count()
    }

    pub(super) fn scalar_or(&self, name: &str, fallback: usize) -> usize {
        self.variables
            .get(name)
            .and_then(|v| v.values.first())
            .map(|&x| x as usize)
            .filter(|&x| x > 0)
            .unwrap_or(fallback)
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

type Arrays = (HashMap<String, Ct2Variable>, HashMap<String, String>);

/// The named arrays (still int8 where stored so) and the aliases of `model.bin`.
fn read_arrays(bytes: &[u8]) -> Result<Arrays, String> {
    let mut r = ByteReader::new(bytes);
    let version = r.u32()?;
    if version != 6 {
        return Err(r.fail(format!("binary version {version}, this reader knows version 6")));
    }
    let spec = read_name(&mut r)?;
    if !spec.contains("Whisper") {
        return Err(r.fail(format!("model spec is {spec:?}, not WhisperSpec")));
    }
    let _revision = r.u32()?;
    let count = r.u32()? as usize;
    // the count comes from the file: trust it for the loop, not for memory
    let mut raw = HashMap::with_capacity(count.min(bytes.len() / 8));
    for _ in 0..count {
        let name = read_name(&mut r)?;
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
        let alias = read_name(&mut r)?;
        let target = read_name(&mut r)?;
        aliases.insert(alias, target);
    }
    Ok((raw, aliases))
}

/// u16 length (counting the trailing NUL), then the bytes.
fn read_name(r: &mut ByteReader) -> Result<String, String> {
    let len = r.u16()? as usize;
    let bytes = r.take(len)?;
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|_| r.fail("a name is not UTF-8".into()))
}
