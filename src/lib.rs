//! callqa: offline speech-analytics QA for call centers.
//!
//! The data's journey, one module per stage:
//!
//! ```text
//! input (folder | manifest) → audio (decode, channels, 16 kHz, VAD) → asr (whisper)
//!   → transcript (JSON per call) → text (normalisation) → lexicon (phrases, matcher)
//!   → rules (hits → outcomes → score, scorecards) → scoring (a folder's transcripts → tables)
//!   → store (output folder, Parquet, atomic) → report (text, clips)
//! ```
//!
//! Beside the journey: `review` keeps QA staff's verdicts, which the rules
//! let overrule the machine's; `search` indexes what anyone said;
//! `model` makes the model files whisper.cpp loads,
//! `pipeline` runs a batch through audio and asr, `privacy` finds customers'
//! numbers, names and addresses in what people read, `shard` splits it among
//! worker processes, `eval` measures transcripts
//! against what was really said. Each stage knows the one before it only
//! through a plain data type ([`transcript::Transcript`], [`lexicon::Hit`],
//! [`rules::CallResult`]).

// Every public item says what it is for; the tests build with warnings denied
// (scripts/test.sh), so an undocumented one fails CI.
#![warn(missing_docs)]

pub mod asr;
pub mod audio;
pub mod budget;
pub mod cli;
pub mod cmd;
pub mod eval;
pub mod files;
pub(crate) mod i18n;
pub mod input;
pub mod isolate;
pub mod lexicon;
pub(crate) mod model;
pub mod pack;
pub mod pipeline;
pub mod privacy;
pub(crate) mod report;
pub(crate) mod review;
pub mod rules;
pub(crate) mod scoring;
pub(crate) mod search;
pub mod settings;
pub(crate) mod shard;
pub mod store;
pub mod text;
pub mod transcript;
