//! Reading PyTorch's legacy checkpoint format (`torch.save` before 1.6, with
//! `_use_new_zipfile_serialization=False`): the format of the GE2E voice
//! encoder that the `resemblyzer` wheel ships as `pretrained.pt`.
//!
//! ```text
//! pickle(magic 0x1950a86a20f9469cfc6c) | pickle(protocol 1001) | pickle(sys info)
//! | pickle(the object; each tensor's storage is a persistent id
//!          ("storage", torch.FloatStorage, key, location, numel, view))
//! | pickle(list of storage keys)
//! | per key, in that order: i64 numel, numel × element bytes
//! ```
//!
//! Only what a state dict needs is understood: a small pickle machine for
//! protocol 2 (dicts, lists, tuples, strings, numbers, `OrderedDict` and
//! `torch._utils._rebuild_tensor_v2`), float storages, and tensors as views
//! into them. Anything else (another global, another storage type) is refused
//! with what it was, so a different file fails here and not as wrong numbers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::bytes::ByteReader;

const LEGACY_MAGIC: u128 = 0x1950a86a20f9469cfc6c;
const LEGACY_PROTOCOL: i64 = 1001;

/// A tensor read from the checkpoint: its shape and values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Where a tensor's values lie in a storage, as the pickle describes it.
#[derive(Debug, Clone, PartialEq)]
struct TensorView {
    storage: String,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Value {
    None,
    Bool,
    Int(i64),
    Float,
    Str(String),
    Tuple(Vec<Value>),
    List(Rc<RefCell<Vec<Value>>>),
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    Global(String, String),
    /// `(key, dtype name)` of a storage, from a persistent id.
    Storage(String, String),
    Tensor(TensorView),
    /// An object we do not need (an optimizer's state, say): kept as a
    /// placeholder so the rest of the file can still be read.
    Opaque,
    Mark,
}

/// Reads every tensor of `checkpoint[key]` (a state dict), by name.
pub fn read_state_dict(bytes: &[u8], key: &str) -> Result<Vec<(String, Tensor)>, String> {
    let mut reader = ByteReader::new(bytes);
    let magic = unpickle(&mut reader)?;
    if !matches!(&magic, Value::Str(m) if m.parse::<u128>().ok() == Some(LEGACY_MAGIC)) {
        return Err("not a PyTorch legacy checkpoint (no magic number)".into());
    }
    match unpickle(&mut reader)? {
        Value::Int(LEGACY_PROTOCOL) => {}
        other => return Err(format!("unsupported checkpoint protocol {other:?}")),
    }
    let _sys_info = unpickle(&mut reader)?;
    let object = unpickle(&mut reader)?;
    let Value::List(keys) = unpickle(&mut reader)? else {
        return Err("no storage key list after the object".into());
    };
    let mut storages: HashMap<String, Vec<f32>> = HashMap::new();
    for k in keys.borrow().iter() {
        let Value::Str(k) = k else {
            return Err("a storage key is not a string".into());
        };
        let count = u64::from(reader.u32()?) | (u64::from(reader.u32()?) << 32);
        let count = usize::try_from(count).map_err(|_| "storage too large".to_string())?;
        let data = reader.take(count.checked_mul(4).ok_or("storage too large")?)?;
        let values = data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        storages.insert(k.clone(), values);
    }
    let state = lookup(&object, key).ok_or_else(|| format!("no {key:?} in the checkpoint"))?;
    let Value::Dict(entries) = state else {
        return Err(format!("{key:?} is not a dict"));
    };
    let mut out = Vec::new();
    for (name, value) in entries.borrow().iter() {
        let (Value::Str(name), Value::Tensor(view)) = (name, value) else {
            continue;
        };
        let storage = storages
            .get(&view.storage)
            .ok_or_else(|| format!("{name}: storage {} not in the file", view.storage))?;
        out.push((name.clone(), gather(name, view, storage)?));
    }
    Ok(out)
}

fn lookup(object: &Value, key: &str) -> Option<Value> {
    let Value::Dict(entries) = object else { return None };
    let entries = entries.borrow();
    entries
        .iter()
        .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
        .map(|(_, v)| v.clone())
}

/// The tensor's values in row-major order, whatever its strides.
fn gather(name: &str, view: &TensorView, storage: &[f32]) -> Result<Tensor, String> {
    let count: usize = view.shape.iter().product();
    let mut values = Vec::with_capacity(count);
    let mut index = vec![0usize; view.shape.len()];
    for _ in 0..count {
        let at = view.offset + index.iter().zip(&view.stride).map(|(i, s)| i * s).sum::<usize>();
        values.push(
            *storage
                .get(at)
                .ok_or_else(|| format!("{name}: view reaches past its storage"))?,
        );
        for d in (0..index.len()).rev() {
            index[d] += 1;
            if index[d] < view.shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(Tensor {
        shape: view.shape.clone(),
        values,
    })
}

fn as_usizes(value: &Value, what: &str) -> Result<Vec<usize>, String> {
    let Value::Tuple(items) = value else {
        return Err(format!("{what} is not a tuple"));
    };
    items
        .iter()
        .map(|v| match v {
            Value::Int(i) => usize::try_from(*i).map_err(|_| format!("{what}: negative")),
            _ => Err(format!("{what}: not an integer")),
        })
        .collect()
}

/// What `callable(*args)` makes, for the few callables a state dict uses.
fn reduce(callable: Value, args: Value) -> Result<Value, String> {
    let Value::Global(module, name) = callable else {
        return Ok(Value::Opaque);
    };
    match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => Ok(Value::Dict(Rc::default())),
        ("torch._utils", "_rebuild_tensor_v2") => {
            let Value::Tuple(args) = args else {
                return Err("_rebuild_tensor_v2 without arguments".into());
            };
            let (Some(Value::Storage(key, dtype)), Some(Value::Int(offset)), Some(shape), Some(stride)) =
                (args.first(), args.get(1), args.get(2), args.get(3))
            else {
                return Err("_rebuild_tensor_v2 with unexpected arguments".into());
            };
            if dtype != "FloatStorage" {
                return Err(format!("tensor of {dtype}: only float tensors are read"));
            }
            Ok(Value::Tensor(TensorView {
                storage: key.clone(),
                offset: usize::try_from(*offset).map_err(|_| "negative offset")?,
                shape: as_usizes(shape, "tensor shape")?,
                stride: as_usizes(stride, "tensor stride")?,
            }))
        }
        _ => Ok(Value::Opaque),
    }
}

fn persistent(pid: Value) -> Result<Value, String> {
    let Value::Tuple(parts) = pid else {
        return Err("persistent id is not a tuple".into());
    };
    match (parts.first(), parts.get(1), parts.get(2)) {
        (Some(Value::Str(kind)), Some(Value::Global(_, dtype)), Some(Value::Str(key))) if kind == "storage" => {
            Ok(Value::Storage(key.clone(), dtype.clone()))
        }
        _ => Err(format!("unexpected persistent id {parts:?}")),
    }
}

/// Runs one pickle (protocol ≤ 2) to its STOP.
fn unpickle(r: &mut ByteReader) -> Result<Value, String> {
    let mut stack: Vec<Value> = Vec::new();
    let mut memo: HashMap<u32, Value> = HashMap::new();
    let pop = |stack: &mut Vec<Value>| stack.pop().ok_or_else(|| "pickle stack underflow".to_string());
    let pop_mark = |stack: &mut Vec<Value>| -> Result<Vec<Value>, String> {
        let at = stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or("pickle: no mark")?;
        let items = stack.split_off(at + 1);
        stack.pop();
        Ok(items)
    };
    loop {
        let op = r.u8()?;
        match op {
            0x80 => {
                r.u8()?; // PROTO
            }
            b'.' => return pop(&mut stack),
            b'(' => stack.push(Value::Mark),
            b'N' => stack.push(Value::None),
            0x88 => stack.push(Value::Bool),
            0x89 => stack.push(Value::Bool),
            b'J' => stack.push(Value::Int(i64::from(r.i32()?))),
            b'K' => stack.push(Value::Int(i64::from(r.u8()?))),
            b'M' => stack.push(Value::Int(i64::from(r.u16()?))),
            0x8a => {
                // LONG1: little-endian two's complement of n bytes
                let n = usize::from(r.u8()?);
                let bytes = r.take(n)?;
                let mut v: i128 = 0;
                for (i, b) in bytes.iter().enumerate().take(16) {
                    v |= i128::from(*b) << (8 * i);
                }
                if n > 0 && n < 16 && bytes[n - 1] & 0x80 != 0 {
                    v -= 1i128 << (8 * n);
                }
                // the magic number does not fit an i64: carried as its decimal text
                stack.push(i64::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int));
            }
            b'G' => {
                r.take(8)?; // a float (the optimizer's settings): never needed
                stack.push(Value::Float);
            }
            b'X' => {
                let n = r.u32()? as usize;
                let text = std::str::from_utf8(r.take(n)?).map_err(|_| "pickle: bad UTF-8")?;
                stack.push(Value::Str(text.to_string()));
            }
            b'c' => {
                let module = read_line(r)?;
                let name = read_line(r)?;
                stack.push(Value::Global(module, name));
            }
            b')' => stack.push(Value::Tuple(Vec::new())),
            b']' => stack.push(Value::List(Rc::default())),
            b'}' => stack.push(Value::Dict(Rc::default())),
            b't' => {
                let items = pop_mark(&mut stack)?;
                stack.push(Value::Tuple(items));
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let at = stack.len().checked_sub(n).ok_or("pickle stack underflow")?;
                let items = stack.split_off(at);
                stack.push(Value::Tuple(items));
            }
            b'q' => {
                let i = u32::from(r.u8()?);
                memo.insert(i, stack.last().ok_or("pickle: put on empty stack")?.clone());
            }
            b'r' => {
                let i = r.u32()?;
                memo.insert(i, stack.last().ok_or("pickle: put on empty stack")?.clone());
            }
            b'h' | b'j' => {
                let i = if op == b'h' { u32::from(r.u8()?) } else { r.u32()? };
                stack.push(memo.get(&i).cloned().ok_or_else(|| format!("pickle: memo {i} unset"))?);
            }
            b'R' => {
                let args = pop(&mut stack)?;
                let callable = pop(&mut stack)?;
                stack.push(reduce(callable, args)?);
            }
            b'Q' => {
                let pid = pop(&mut stack)?;
                stack.push(persistent(pid)?);
            }
            b'b' => {
                pop(&mut stack)?; // BUILD: an object's state; nothing we read needs it
            }
            b's' | b'u' => {
                let items = if op == b's' {
                    let v = pop(&mut stack)?;
                    let k = pop(&mut stack)?;
                    vec![k, v]
                } else {
                    pop_mark(&mut stack)?
                };
                if let Some(Value::Dict(d)) = stack.last() {
                    let mut d = d.borrow_mut();
                    for pair in items.chunks_exact(2) {
                        d.push((pair[0].clone(), pair[1].clone()));
                    }
                }
            }
            b'a' | b'e' => {
                let items = if op == b'a' {
                    vec![pop(&mut stack)?]
                } else {
                    pop_mark(&mut stack)?
                };
                if let Some(Value::List(l)) = stack.last() {
                    l.borrow_mut().extend(items);
                }
            }
            other => return Err(r.fail(format!("pickle opcode 0x{other:02x} not understood"))),
        }
    }
}

fn read_line(r: &mut ByteReader) -> Result<String, String> {
    let mut out = Vec::new();
    loop {
        match r.u8()? {
            b'\n' => break,
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| "pickle: bad UTF-8 in a global".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made checkpoint in the legacy layout: one 2×2 tensor that is
    /// a transposed view into a 6-element storage at offset 1.
    fn tiny_checkpoint() -> Vec<u8> {
        // BINUNICODE: 'X', u32 length, the bytes
        let text = |b: &mut Vec<u8>, s: &str| {
            b.push(b'X');
            b.extend((s.len() as u32).to_le_bytes());
            b.extend(s.as_bytes());
        };
        let mut b = Vec::new();
        // magic, as LONG1 of 10 bytes
        b.extend([0x80, 2, 0x8a, 10]);
        b.extend(&LEGACY_MAGIC.to_le_bytes()[..10]);
        b.push(b'.');
        b.extend([0x80, 2, b'M', 0xe9, 0x03, b'.']); // 1001
        b.extend([0x80, 2, b'}', b'.']); // sys info

        // {"model_state": OrderedDict([("w", tensor)])}
        b.extend([0x80, 2, b'}']);
        text(&mut b, "model_state");
        b.extend(b"ccollections\nOrderedDict\n)R");
        text(&mut b, "w");
        b.extend(b"ctorch._utils\n_rebuild_tensor_v2\n((");
        text(&mut b, "storage");
        b.extend(b"ctorch\nFloatStorage\n");
        text(&mut b, "7");
        text(&mut b, "cpu");
        b.extend([b'K', 6, b'N', b't', b'Q']);
        // offset 1, size (2, 2), stride (1, 2), no grad, no hooks
        b.extend([
            b'K', 1, b'K', 2, b'K', 2, 0x86, b'K', 1, b'K', 2, 0x86, 0x89, b')', b't', b'R',
        ]);
        b.extend([b's', b's', b'.']);
        // storage keys, then the storage
        b.extend([0x80, 2, b']', b'(']);
        text(&mut b, "7");
        b.extend([b'e', b'.']);
        b.extend(6u64.to_le_bytes());
        for v in [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0] {
            b.extend(v.to_le_bytes());
        }
        b
    }

    #[test]
    fn reads_a_strided_view_of_a_storage() {
        let tensors = read_state_dict(&tiny_checkpoint(), "model_state").unwrap();
        assert_eq!(tensors.len(), 1);
        let (name, t) = &tensors[0];
        assert_eq!(name, "w");
        assert_eq!(t.shape, vec![2, 2]);
        // offset 1, strides (1, 2): [[1, 3], [2, 4]]
        assert_eq!(t.values, vec![1.0, 3.0, 2.0, 4.0]);
    }

    #[test]
    fn refuses_what_is_not_a_checkpoint() {
        assert!(read_state_dict(b"PK\x03\x04 zip", "model_state").is_err());
        let mut cut = tiny_checkpoint();
        cut.truncate(cut.len() - 8);
        let err = read_state_dict(&cut, "model_state").unwrap_err();
        assert!(err.contains("ends early"), "{err}");
    }
}
