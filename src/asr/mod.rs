//! Speech recognition: 16 kHz speaker tracks in, timed simplified-Chinese segments out.
//!
//! One whisper model is loaded per run and shared by every worker; each worker
//! borrows a decoding state from a pool, so memory grows with the number of
//! threads, not the number of calls. A channel is cut into speech chunks by the
//! VAD and each chunk is decoded on its own with whisper's audio context shrunk
//! to the chunk's length: that is both what keeps long silences from derailing
//! the decoder and what makes decoding several times faster than feeding whole
//! 30 s windows. See `ASR-NOTES.md` in the shared folder for the measurements
//! behind these choices.

pub mod blas;
mod bpe;
mod cleanup;
mod engine;
mod verify;

pub use engine::{model_missing_help, AsrError, DecodeSettings, Engine};
pub use verify::{PhraseProposer, HOPELESS_GAP_PER_CHAR, RIVALS_FROM_GAP_PER_CHAR, RIVAL_REACH};
