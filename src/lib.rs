//! callqa: offline speech-analytics QA for call centers.
//!
//! The data's journey, one module per stage:
//!
//! ```text
//! input (folder | manifest) → audio (decode, channels, 16 kHz, VAD) → asr (whisper)
//!   → transcript (JSON per call) → text (normalisation) → lexicon (phrases, matcher)
//!   → rules (hits → outcomes → score) → store (Parquet, atomic) → report (scorecards, text, clips)
//! ```
//!
//! Each stage knows the one before it only through a plain data type
//! ([`transcript::Transcript`], [`lexicon::Hit`], [`rules::CallResult`]).

pub mod asr;
pub mod audio;
pub mod cli;
pub mod cmd;
pub mod eval;
pub mod input;
pub mod lexicon;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod store;
pub mod text;
pub mod transcript;
